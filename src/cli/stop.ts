// Stopping long work cleanly: the first SIGINT or SIGTERM asks a command to stop at its next safe point (a
// training step, an attack, a chunk of images), where it writes what resumes it and exits 130; a second quits.
import { exitProcess, onInterrupt, type StopSignal } from '../runtime/index.ts';
import type { ProgressSink } from './progress.ts';

/** The exit code of a command stopped by a signal: 128 + SIGINT's 2, as shells report Ctrl-C; SIGTERM too. */
export const STOPPED_EXIT_CODE = 130;

/** Thrown at a safe point after a signal; main.ts turns it into exit code 130 (the command said what it kept). */
export class Stopped extends Error {
  constructor(readonly signal: StopSignal) {
    super(`stopped by ${signal}`);
  }
}

export interface StopListener {
  /** The signal received so far, or null. */
  readonly signal: StopSignal | null;
  /** Throws Stopped once a signal has arrived: call it where stopping loses nothing. */
  check(): void;
  /** Removes the listener: the signals end the process again. */
  dispose(): void;
}

/**
 * Listens for SIGINT and SIGTERM until disposed. The first says on `sink` that the command stops `when` (e.g.
 * 'after the step under way, with a checkpoint'); a second quits at once with exit code 130, writing nothing
 * more (every file the commands write is written atomically, so none is left half-written).
 * NOTE: a signal is seen only when the event loop turns: synchronous work must await nextTurn() between chunks.
 */
export function listenForStop(sink: ProgressSink, when: string): StopListener {
  let signal: StopSignal | null = null;
  const dispose = onInterrupt((s) => {
    if (signal) {
      sink.log(`${s} again: quitting at once; nothing more is written`);
      exitProcess(STOPPED_EXIT_CODE);
    }
    signal = s;
    sink.log(`${s}: stopping ${when} (send it again to quit at once)`);
  });
  return {
    get signal() {
      return signal;
    },
    check() {
      if (signal) throw new Stopped(signal);
    },
    dispose,
  };
}

/** Lets the event loop turn (signal handlers run then) between chunks of synchronous work. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The command line that continues a stopped run: `argv` with `--resume` (and any `extra` flags) added. */
export function resumeCommand(command: string, argv: string[], extra: string[] = []): string {
  const args = [...argv, ...extra, ...(argv.includes('--resume') ? [] : ['--resume'])];
  return `bun run ${command} -- ${args.map(shellWord).join(' ')}`;
}

/** A word as a POSIX shell reads it back: quoted only when it needs to be. */
function shellWord(w: string): string {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

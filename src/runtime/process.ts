// The running process as the command-line tools see it (Bun, Node, and Deno's node:process): arguments, exit code,
// standard output and error, Ctrl-C and SIGTERM, and the runtime's name and platform. The CLI and the scripts reach
// the process only here.

type Proc = {
  argv: string[];
  exitCode?: number | string;
  exit(code?: number): never;
  stdout: OutputStream;
  stderr: OutputStream;
  on(event: StopSignal, fn: () => void): unknown;
  off(event: StopSignal, fn: () => void): unknown;
  version: string;
  platform: string;
  arch: string;
  pid: number;
};
/** The signals that ask a command to stop: Ctrl-C, and a service manager's or CI runner's SIGTERM. */
export type StopSignal = 'SIGINT' | 'SIGTERM';
/** A writable standard stream: whether it is a terminal, and its width when it is one. */
export type OutputStream = { write(s: string): unknown; isTTY?: boolean; columns?: number };
const proc = () => (globalThis as { process?: Proc }).process!;

/** The command-line arguments after the program and script: what a user typed. */
export function commandArgs(): string[] {
  return proc().argv.slice(2);
}

/** This process's id (a distributed audit's workers name themselves by it in their logs). */
export function processId(): number {
  return proc().pid;
}

/** Ends the process with `code`. */
export function exitProcess(code: number): never {
  return proc().exit(code);
}

/** The exit code set so far (a numeric process.exitCode), else undefined. */
export function pendingExitCode(): number | undefined {
  const c = proc().exitCode;
  return typeof c === 'number' ? c : undefined;
}

/** Sets the code the process will exit with, without ending it. */
export function setExitCode(code: number): void {
  proc().exitCode = code;
}

/** Standard error, for progress lines and messages. */
export function standardError(): OutputStream {
  return proc().stderr;
}

/** Standard output, for results (a progress bar on standard error steps aside for them). */
export function standardOutput(): OutputStream {
  return proc().stdout;
}

/**
 * Calls `fn` with the signal on every Ctrl-C (SIGINT) or SIGTERM until the returned function removes it. While
 * it is installed the signals no longer end the process: `fn` decides (long commands stop at a safe point).
 */
export function onInterrupt(fn: (signal: StopSignal) => void): () => void {
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((signal) => {
    const h = () => fn(signal);
    proc().on(signal, h);
    return [signal, h] as const;
  });
  return () => handlers.forEach(([signal, h]) => proc().off(signal, h));
}

/** Calls `fn` on every SIGINT or SIGTERM (a server's graceful stop); never removed. */
export function onStopSignal(signal: StopSignal, fn: () => void): void {
  proc().on(signal, fn);
}

/** Runtime name and version: bun, deno or node. */
export function runtimeName(): string {
  const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } } };
  if (g.Bun) return `bun ${g.Bun.version}`;
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  return `node ${proc().version}`;
}

/** Operating system and architecture, e.g. linux-x64. */
export function platformName(): string {
  return `${proc().platform}-${proc().arch}`;
}

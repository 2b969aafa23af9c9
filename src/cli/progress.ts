// Progress for long jobs, its one home: a bar redrawn in place on a terminal, plain lines in logs and CI, JSON
// events for programs (one object per line, on standard error), or nothing; and the --progress flag that picks one.
import { readEnv, standardError, standardOutput, type OutputStream } from '../runtime/index.ts';
import { choice } from './args.ts';

/** --progress: auto is a bar when standard error is a terminal (and CI is unset), plain lines otherwise. */
export const PROGRESS_CHOICES = ['auto', 'bar', 'plain', 'json', 'off'] as const;
export type ProgressChoice = (typeof PROGRESS_CHOICES)[number];
export type ProgressMode = Exclude<ProgressChoice, 'auto'>;

/** The --progress flag, spread into a command's (or a bench script's) parse options. */
export const progressOptions = { progress: { type: 'string' } } as const;

/** The flag's line in a usage text. */
export const progressUsage = `  [--progress auto|bar|plain|json|off]   (auto: a bar on a terminal, else plain lines; json: events on stderr)`;

/** Fields a task adds to its events beside the counts (epoch, loss, accuracy, configuration, ...): JSON values. */
export type TaskFields = Record<string, string | number | boolean | null | undefined>;

/** One `--progress json` line; the task's fields follow these keys in the same object. */
export interface ProgressEvent {
  event: 'start' | 'progress' | 'done' | 'interrupted';
  task: string;
  done: number;
  total: number;
  unit: string;
  /** Units per second over the last RATE_WINDOW_MS (0 before any unit is done in this process). */
  rate: number;
  /** (total − done) / rate; null while the rate is unknown. */
  etaSeconds: number | null;
  elapsedSeconds: number;
  [field: string]: unknown;
}

/** One task's progress: `done` only moves forward (a smaller value is ignored). */
export interface ProgressTask {
  /**
   * `fields` replace the previous update's (the start's stay); `detail` is the human text beside the bar; `force`
   * skips the bar's and the JSON events' throttle.
   */
  update(done: number, o?: { fields?: TaskFields; detail?: string; force?: boolean }): void;
  /** The `done` event (the count stays where it is: a run that stops early says so). */
  finish(fields?: TaskFields): void;
  /** The `interrupted` event: stopped by a signal, its resumable state already written. */
  interrupt(fields?: TaskFields): void;
}

export interface ProgressSink {
  readonly mode: ProgressMode;
  /** Starts a task of `total` units (`done` already, e.g. from a checkpoint): the `start` event. */
  task(
    name: string,
    total: number,
    unit: string,
    o?: { done?: number; fields?: TaskFields },
  ): ProgressTask;
  /** A permanent message on standard error (a JSON `log` event in json mode); the bar is redrawn below it. */
  log(line: string): void;
  /** A result line on standard output; the bar steps aside for it. */
  print(line: string): void;
}

/** The bar is redrawn at most this often; JSON progress events come at most this often unless forced. */
export const BAR_INTERVAL_MS = 100;
export const JSON_INTERVAL_MS = 1000;
/** Plain mode writes a line at every tenth of the task, and at least this often. */
export const PLAIN_HEARTBEAT_MS = 60_000;
/** The rate is measured over this much recent time, so a slow start or a change of pace fades out. */
export const RATE_WINDOW_MS = 30_000;
const RESERVED = new Set(['event', 'task', 'done', 'total', 'unit', 'rate', 'etaSeconds']);

/** Formats seconds as 1h02m, 5m12s or 42s. */
export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec)) return '?';
  const s = Math.max(0, Math.round(sec));
  if (s >= 3600)
    return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** A rate with about three significant digits: 812, 42.5, 0.731. */
export function formatRate(r: number): string {
  return r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(r >= 1 ? 2 : 3);
}

/** What `auto` means for `stream`: a bar on a terminal, plain lines in CI, on a dumb terminal or in a file. */
export function resolveProgressMode(
  choice: ProgressChoice,
  stream: OutputStream,
  env: { CI?: string; TERM?: string } = { CI: readEnv('CI'), TERM: readEnv('TERM') },
): ProgressMode {
  if (choice !== 'auto') return choice;
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== '0' && env.CI !== 'false';
  return stream.isTTY && !ci && env.TERM !== 'dumb' ? 'bar' : 'plain';
}

/** The sink a command's --progress asks for, on standard error (results on standard output). */
export function progressFromFlags(v: Record<string, unknown>): ProgressSink {
  const stream = standardError();
  const mode = resolveProgressMode(choice(v, 'progress', PROGRESS_CHOICES, 'auto'), stream);
  return progressSink(stream, mode, { out: standardOutput() });
}

/**
 * A sink on `stream` in `mode` (auto: resolveProgressMode). `out` takes print()'s results (default: `stream`);
 * `now` is the clock in milliseconds (tests pass a fake one).
 */
export function progressSink(
  stream: OutputStream,
  mode: ProgressChoice = 'auto',
  { out = stream, now = () => performance.now() }: { out?: OutputStream; now?: () => number } = {},
): ProgressSink {
  const resolved = resolveProgressMode(mode, stream);
  let live = false; // a bar is on screen, at the start of the cursor's line
  let active: { name: string; draw: () => void } | null = null;
  const clear = () => {
    if (live) stream.write('\r\x1b[K');
    live = false;
  };
  const json = (o: Record<string, unknown>) => stream.write(`${JSON.stringify(o)}\n`);
  const permanent = (line: string) => {
    clear();
    stream.write(`${line}\n`);
  };

  function task(
    name: string,
    total: number,
    unit: string,
    o: { done?: number; fields?: TaskFields } = {},
  ): ProgressTask {
    const t0 = now();
    let done = Math.min(o.done ?? 0, total);
    const done0 = done;
    // The task's own fields (given at its start) stay on every event; an update's replace the previous update's.
    const base: TaskFields = o.fields ?? {};
    let fields: TaskFields = base;
    let detail = '';
    let ended = false;
    let lastBar = -Infinity,
      lastJson = t0,
      lastPlain = t0,
      lastTenth = tenth(done, total);
    // Samples [time, done] over the last RATE_WINDOW_MS, one every 250 ms at most.
    const samples: [number, number][] = [[t0, done]];
    const stats = (t: number) => {
      const [ts, ds] = samples[0];
      const rate = t > ts ? ((done - ds) * 1000) / (t - ts) : 0;
      return {
        rate,
        eta: rate > 0 ? (total - done) / rate : done >= total ? 0 : null,
        elapsed: (t - t0) / 1000,
      };
    };
    const event = (name_: ProgressEvent['event'], t: number) => {
      const s = stats(t);
      const extra = Object.fromEntries(Object.entries(fields).filter(([k]) => !RESERVED.has(k)));
      json({
        event: name_,
        task: name,
        done,
        total,
        unit,
        rate: round(s.rate, 3),
        etaSeconds: s.eta === null ? null : round(s.eta, 1),
        elapsedSeconds: round(s.elapsed, 1),
        ...extra,
      });
    };
    const summary = (t: number) => {
      const s = stats(t);
      return `${pct(done, total)} (${done}/${total} ${unit}), ${formatRate(s.rate)} ${unit}/s, ETA ${s.eta === null ? '?' : formatDuration(s.eta)}`;
    };
    const draw = () => {
      const t = now();
      const s = stats(t);
      const frac = total > 0 ? done / total : 1;
      const filled = Math.round(frac * 20);
      const line =
        `${name} ${'█'.repeat(filled)}${'░'.repeat(20 - filled)} ${pct(done, total)} ${done}/${total} ${unit}` +
        ` ${formatRate(s.rate)} ${unit}/s ETA ${s.eta === null ? '?' : formatDuration(s.eta)}` +
        (detail ? ` ${detail}` : '');
      // One character short of the width: a line that fills the terminal wraps, and \r no longer reaches its start.
      const width = Math.max(20, (stream.columns || 80) - 1); // 0 or absent: a pseudo-terminal without a size
      stream.write(`\r${line.length > width ? line.slice(0, width - 1) + '…' : line}\x1b[K`);
      live = true;
      lastBar = t;
    };
    const me = { name, draw };
    active = me;
    const end = (kind: 'done' | 'interrupted', f?: TaskFields) => {
      if (ended) return;
      ended = true;
      if (f) fields = { ...fields, ...f };
      const t = now();
      if (active === me) active = null;
      if (resolved === 'json') return event(kind, t);
      if (resolved === 'off') return;
      const secs = (t - t0) / 1000;
      const avg = secs > 0 ? (done - done0) / secs : 0;
      permanent(
        kind === 'done'
          ? `${name}: done, ${done}/${total} ${unit} in ${formatDuration(secs)} (${formatRate(avg)} ${unit}/s)`
          : `${name}: interrupted at ${done}/${total} ${unit} after ${formatDuration(secs)}`,
      );
    };
    if (resolved === 'json') event('start', t0);
    return {
      update(next, u = {}) {
        if (ended) return;
        const t = now();
        if (next > done) done = Math.min(next, total);
        if (u.fields) fields = { ...base, ...u.fields };
        if (u.detail !== undefined) detail = u.detail;
        if (t - samples[samples.length - 1][0] >= 250) samples.push([t, done]);
        while (samples.length > 2 && t - samples[1][0] >= RATE_WINDOW_MS) samples.shift();
        if (resolved === 'bar') {
          if (u.force || t - lastBar >= BAR_INTERVAL_MS || done >= total) draw();
        } else if (resolved === 'json') {
          if (u.force || t - lastJson >= JSON_INTERVAL_MS) {
            lastJson = t;
            event('progress', t);
          }
        } else if (resolved === 'plain') {
          const k = tenth(done, total);
          if (k > lastTenth || t - lastPlain >= PLAIN_HEARTBEAT_MS) {
            lastTenth = k;
            lastPlain = t;
            stream.write(`${name}: ${summary(t)}${detail ? `; ${detail}` : ''}\n`);
          }
        }
      },
      finish: (f) => end('done', f),
      interrupt: (f) => end('interrupted', f),
    };
  }

  return {
    mode: resolved,
    task,
    log(line) {
      if (resolved === 'json')
        return void json({ event: 'log', task: active?.name ?? null, message: line });
      permanent(line);
      if (resolved === 'bar' && active) active.draw();
    },
    print(line) {
      const redraw = live && active;
      clear();
      out.write(`${line}\n`);
      if (redraw) active!.draw();
    },
  };
}

const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d;
const tenth = (done: number, total: number) => (total > 0 ? Math.floor((10 * done) / total) : 10);
const pct = (done: number, total: number) =>
  `${(total > 0 ? (100 * done) / total : 100).toFixed(0).padStart(3)}%`;

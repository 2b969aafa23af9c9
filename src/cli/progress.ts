// Progress display for long jobs: one live line rewritten in place on a terminal, plain log lines otherwise.

export interface ProgressSink {
  /** Replaces the live line (terminal) or logs it when `force` or the throttle allows (plain output). */
  update(line: string, fraction: number): void;
  /** Prints a permanent line (ends the live line first). */
  log(line: string): void;
}

/** Formats seconds as 1h02m, 5m12s or 42s. */
export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec)) return '?';
  const s = Math.max(0, Math.round(sec));
  if (s >= 3600)
    return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/**
 * A sink on `stream`. On a TTY the live line is redrawn at most every 100 ms; otherwise a line is logged
 * each time `fraction` crosses another tenth, so log files stay short.
 */
export function progressSink(stream: { write(s: string): unknown; isTTY?: boolean }): ProgressSink {
  const tty = Boolean(stream.isTTY);
  let last = 0;
  let live = false;
  let lastTenth = -1;
  return {
    update(line, fraction) {
      if (tty) {
        const now = performance.now();
        if (now - last < 100 && fraction < 1) return;
        last = now;
        stream.write(`\r${line}\x1b[K`);
        live = true;
      } else {
        const tenth = Math.floor(fraction * 10);
        if (tenth === lastTenth) return;
        lastTenth = tenth;
        stream.write(`${line}\n`);
      }
    },
    log(line) {
      if (live) stream.write('\r\x1b[K');
      live = false;
      lastTenth = -1;
      stream.write(`${line}\n`);
    },
  };
}

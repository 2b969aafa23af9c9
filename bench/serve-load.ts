// Load generation and bookkeeping of bench/serve.ts: closed-loop clients, an open-model sender (requests leave
// on a fixed schedule whatever is outstanding; latency counts from the scheduled time, so a slow server cannot
// hide its queueing by slowing the client: no coordinated omission), phase summaries and recovery windows.

/** One request: when it was due, when it left, when its answer (or failure) ended; times in ms. */
export interface Shot {
  scheduledMs: number;
  sentMs: number;
  doneMs: number;
  /** HTTP status, or null when the connection failed or timed out. */
  status: number | null;
  error?: string;
}

/** Sends one request and resolves with its status once the body has been read whole. */
export type Send = () => Promise<number>;

const now = () => performance.now();
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

async function shoot(send: Send, scheduledMs: number): Promise<Shot> {
  const sentMs = now();
  try {
    const status = await send();
    return { scheduledMs, sentMs, doneMs: now(), status };
  } catch (e) {
    return {
      scheduledMs,
      sentMs,
      doneMs: now(),
      status: null,
      error: (e as Error).message.slice(0, 200),
    };
  }
}

/** `clients` loops of send → await answer → send, for durationMs; each request is due when it is sent. */
export async function closedLoop(send: Send, clients: number, durationMs: number): Promise<Shot[]> {
  const shots: Shot[] = [];
  const end = now() + durationMs;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (now() < end) shots.push(await shoot(send, now()));
    }),
  );
  return shots;
}

/** An open-model phase in flight: `sent` settles after the last scheduled send, `results` after its answer. */
export interface OpenPhase {
  startMs: number;
  sent: Promise<void>;
  results: Promise<Shot[]>;
  /** Most requests outstanding at once (a client near its connection limit would distort the numbers). */
  maxOutstanding(): number;
}

/**
 * Uniform arrivals at `rate` per second for durationMs: request i is due at start + i/rate and leaves on the
 * first timer tick at or after that, however many are still unanswered.
 */
export function openLoop(send: Send, rate: number, durationMs: number): OpenPhase {
  const startMs = now(),
    interval = 1000 / rate,
    n = Math.max(1, Math.round((rate * durationMs) / 1000));
  const pending: Promise<Shot>[] = [];
  let outstanding = 0,
    peak = 0;
  const fire = (due: number) => {
    outstanding++;
    peak = Math.max(peak, outstanding);
    pending.push(shoot(send, due).finally(() => outstanding--));
  };
  const sent = (async () => {
    for (let i = 0; i < n;) {
      const t = now();
      // NOTE: timers tick at about 1 ms; at high rates several requests fall due per tick and leave together.
      for (; i < n && startMs + i * interval <= t; i++) fire(startMs + i * interval);
      if (i < n) await sleep(startMs + i * interval - now());
    }
  })();
  return {
    startMs,
    sent,
    results: sent.then(() => Promise.all(pending)),
    maxOutstanding: () => peak,
  };
}

/** Nearest-rank percentiles of a list of ms, rounded to 0.01 ms (null fields when it is empty): a 5% change of a
 * 1.5 ms median is 0.075 ms, finer than 0.1 ms steps. */
export interface Percentiles {
  n: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
}

export function percentiles(values: number[]): Percentiles {
  const s = [...values].sort((a, b) => a - b),
    r = (v: number | undefined) => (v === undefined ? null : Math.round(v * 100) / 100);
  const at = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  return { n: s.length, p50: r(at(0.5)), p99: r(at(0.99)), max: r(s[s.length - 1]) };
}

const isShed = (status: number | null) => status === 503 || status === 429;

/** What a phase measured, from its requests' shots. */
export interface PhaseSummary {
  requests: number;
  /** Answers by HTTP status (connection failures and timeouts are `errors`). */
  statuses: Record<string, number>;
  errors: number;
  errorSamples: string[];
  /** 200 answers per second, from the phase start to its last answer. */
  throughput200PerS: number;
  /** Latency of 200 answers, from scheduled send to the end of the body. */
  latency200Ms: Percentiles;
  /** Latency of 503 and 429 answers (how fast excess load is turned away). */
  latencyShedMs: Percentiles;
  /** How late requests left against their schedule (client-side lag; large means the driver fell behind). */
  sendLagMs: Percentiles;
}

export function summarize(shots: Shot[], startMs: number): PhaseSummary {
  const statuses: Record<string, number> = {};
  for (const s of shots) if (s.status !== null) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
  const ok = shots.filter((s) => s.status === 200);
  const end = Math.max(startMs + 1, ...shots.map((s) => s.doneMs));
  const errors = shots.filter((s) => s.status === null);
  return {
    requests: shots.length,
    statuses,
    errors: errors.length,
    errorSamples: [...new Set(errors.map((s) => s.error ?? 'unknown'))].slice(0, 3),
    throughput200PerS: Math.round((ok.length / ((end - startMs) / 1000)) * 10) / 10,
    latency200Ms: percentiles(ok.map((s) => s.doneMs - s.scheduledMs)),
    latencyShedMs: percentiles(
      shots.filter((s) => isShed(s.status)).map((s) => s.doneMs - s.scheduledMs),
    ),
    sendLagMs: percentiles(shots.map((s) => s.sentMs - s.scheduledMs)),
  };
}

/** One window of the recovery phase (requests grouped by their scheduled time). */
export interface RecoveryWindow {
  fromS: number;
  requests: number;
  statuses: Record<string, number>;
  errors: number;
  p99Ms200: number | null;
  good: boolean;
}

/**
 * Splits shots into windows of windowMs from startMs and marks a window good when every request in it got a
 * 200 and its p99 latency is at most thresholdMs (a window with no requests is good: nothing went wrong).
 */
export function recoveryWindows(
  shots: Shot[],
  startMs: number,
  windowMs: number,
  count: number,
  thresholdMs: number,
): RecoveryWindow[] {
  return Array.from({ length: count }, (_, w) => {
    const from = startMs + w * windowMs;
    const inWindow = shots.filter((s) => s.scheduledMs >= from && s.scheduledMs < from + windowMs);
    const sum = summarize(inWindow, from);
    const p99 = sum.latency200Ms.p99;
    const allOk = sum.errors === 0 && (sum.statuses['200'] ?? 0) === inWindow.length;
    return {
      fromS: (w * windowMs) / 1000,
      requests: inWindow.length,
      statuses: sum.statuses,
      errors: sum.errors,
      p99Ms200: p99,
      good: allOk && (p99 === null || p99 <= thresholdMs),
    };
  });
}

/** Seconds from the window start after which every window is good, or null if the last one is not. */
export function recoveredAfterS(windows: RecoveryWindow[]): number | null {
  let first = windows.length;
  while (first > 0 && windows[first - 1].good) first--;
  return first === windows.length ? null : windows[first].fromS;
}

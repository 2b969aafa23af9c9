// Interleaved rounds: in every round each workload's contenders run back to back (the order rotated by one each
// round, so none always follows the same neighbour), with a short pause between them for the last one's threads to
// park. A machine whose speed drifts over minutes then moves every contender of a round alike. A contender that
// fails is dropped from later rounds with its error recorded, never silently.
import type { Figure, Workload } from './workloads.ts';

export interface ContenderResult {
  model: string;
  /** Each measured round's figure, in round order. */
  rounds: number[];
  /** Per configuration (onnxruntime spinning on/off, torch OpenMP wait policies): each round's figure. */
  variants?: Record<string, number[]>;
  median: number;
}

/** Per workload id, per contender: its rounds, or why it did not run. */
export type WorkloadResults = Record<string, Record<string, ContenderResult | { skipped: string }>>;

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b),
    m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** Five significant digits: the figures' noise is far above that. */
const sig5 = (v: number) => Number(v.toPrecision(5));
const sig = (f: Figure): Figure => ({
  value: sig5(f.value),
  ...(f.variants
    ? { variants: Object.fromEntries(Object.entries(f.variants).map(([k, v]) => [k, sig5(v)])) }
    : {}),
});
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs `warmupRounds` unrecorded rounds, then `rounds` recorded ones; `log` gets one line per measurement. */
export async function runRounds(
  workloads: Workload[],
  o: {
    rounds: number;
    warmupRounds: number;
    settleMs: number;
    log: (line: string) => void;
    /** Called after every measurement (a progress bar's tick). */
    tick?: () => void;
  },
): Promise<WorkloadResults> {
  const results: WorkloadResults = {};
  const failed = new Map<string, string>();
  for (const w of workloads) {
    results[w.id] = {};
    for (const [peer, why] of Object.entries(w.skipped)) results[w.id][peer] = { skipped: why };
  }
  const fmt = (w: Workload, v: number) =>
    w.metric === 'latency'
      ? `${v.toFixed(4)} ${w.unit}`
      : `${Math.round(v).toLocaleString('en-US')} ${w.unit}`;
  for (let r = -o.warmupRounds; r < o.rounds; r++) {
    const label =
      r < 0 ? `warm-up ${r + o.warmupRounds + 1}/${o.warmupRounds}` : `round ${r + 1}/${o.rounds}`;
    for (const w of workloads) {
      const k = w.contenders.length;
      const order = w.contenders.map((_, i) => w.contenders[(i + Math.max(r, 0)) % k]);
      for (const c of order) {
        const key = `${w.id}/${c.peer}`;
        if (failed.has(key)) continue;
        let fig;
        try {
          fig = sig(await c.measure());
        } catch (e) {
          const why = `failed in ${label}: ${(e as Error).message}`;
          failed.set(key, why);
          results[w.id][c.peer] = { skipped: why };
          o.log(`${label} ${w.id} ${c.peer}: ${why}`);
          o.tick?.();
          continue;
        }
        await sleep(o.settleMs);
        o.tick?.();
        const variants = fig.variants
          ? ' (' +
            Object.entries(fig.variants)
              .map(([n, v]) => `${n} ${fmt(w, v)}`)
              .join(', ') +
            ')'
          : '';
        o.log(`${label} ${w.id.padEnd(20)} ${c.peer.padEnd(12)} ${fmt(w, fig.value)}${variants}`);
        if (r < 0) continue;
        const prev = results[w.id][c.peer];
        const row: ContenderResult =
          prev && 'rounds' in prev ? prev : { model: c.model, rounds: [], median: NaN };
        row.rounds.push(fig.value);
        for (const [n, v] of Object.entries(fig.variants ?? {}))
          ((row.variants ??= {})[n] ??= []).push(v);
        row.median = sig5(median(row.rounds));
        results[w.id][c.peer] = row;
      }
    }
  }
  return results;
}

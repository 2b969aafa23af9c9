// Shared by the benchmarks: the median wall time of repeated calls after a warm-up.

/** Median of the per-call times of fn after `warmup` calls, in ms. */
export async function medianMs(fn: () => unknown, reps: number, warmup = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}

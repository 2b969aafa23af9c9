// onnxruntime-node as a bench peer: one session per measurement on the bytes hashguard's exportOnnx writes (the
// dense-equivalent graph of the same weights), created, timed and released, so a live session's spinning threads
// never take the cores from whatever is measured next (two live sessions measured each other at a third).
import type * as Ort from 'onnxruntime-node';

let ort: typeof Ort;
/**
 * Loads onnxruntime-node (a devDependency; its native library can still fail to load) and returns its version, or
 * throws why not: the bench records that as the reason its figures are missing.
 */
export async function loadOrt(): Promise<string> {
  ort ??= await import('onnxruntime-node');
  return ort.env.versions.common ?? 'unknown';
}

/** Session options: `threads` intra-op threads, spin-waiting on (onnxruntime's default) or off. */
export function ortOptions(
  threads: number,
  spinning: boolean,
): Ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    ...(spinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
  };
}

/**
 * Wall seconds of each of `iters` runs of the graph on x [dims] after `warmup` untimed runs, in a fresh session
 * with `threads` intra-op threads (spinning on or off), released afterwards. Call loadOrt first.
 */
export async function ortTimes(
  graph: Uint8Array,
  x: Float32Array,
  dims: number[],
  o: { threads: number; spinning: boolean; iters: number; warmup: number },
): Promise<number[]> {
  const session = await ort.InferenceSession.create(graph, ortOptions(o.threads, o.spinning));
  try {
    const feed = { [session.inputNames[0]]: new ort.Tensor('float32', x, dims) };
    for (let i = 0; i < o.warmup; i++) await session.run(feed);
    const times: number[] = [];
    for (let i = 0; i < o.iters; i++) {
      const t0 = performance.now();
      await session.run(feed);
      times.push((performance.now() - t0) / 1000);
    }
    return times;
  } finally {
    await session.release();
  }
}

/** The logits of x [dims] (one thread), for the bench's parity check of what it measures. Call loadOrt first. */
export async function ortLogits(graph: Uint8Array, x: Float32Array, dims: number[]) {
  const session = await ort.InferenceSession.create(graph, ortOptions(1, false));
  try {
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, dims) });
    return out[session.outputNames[0]].data as Float32Array;
  } finally {
    await session.release();
  }
}

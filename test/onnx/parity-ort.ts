// onnxruntime-node, the peer the ONNX parity tests (parity.test.ts, parity-export.test.ts) hold hashguard to: one
// single-threaded session per file, batches fed through it, outputs compared batch by batch against one tolerance.
import { expect } from 'bun:test';
import * as ort from 'onnxruntime-node';

/** A session on a file path (external data resolves beside it) or on bytes, one thread (the CI box has two cores). */
export function ortSession(model: string | Uint8Array): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // Errors only: lenet-unfolded.onnx (initializers listed as graph inputs, on purpose) draws a warning per weight.
    logSeverityLevel: 3,
  };
  return typeof model === 'string'
    ? ort.InferenceSession.create(model, options)
    : ort.InferenceSession.create(model, options);
}

/**
 * The session's first output for `n` rows of `x` fed as [rows, ...dims], `batch` rows per run (1 for a file whose
 * batch axis is fixed at 1). Returns [n, classes] flattened.
 */
export async function ortRun(
  session: ort.InferenceSession,
  x: Float32Array,
  n: number,
  dims: readonly number[],
  batch: number,
): Promise<Float32Array> {
  const per = x.length / n;
  const parts: Float32Array[] = [];
  for (let start = 0; start < n; start += batch) {
    const rows = Math.min(batch, n - start);
    const feed = new ort.Tensor('float32', x.slice(start * per, (start + rows) * per), [
      rows,
      ...dims,
    ]);
    const out = await session.run({ [session.inputNames[0]]: feed });
    parts.push(out[session.outputNames[0]].data as Float32Array);
  }
  const all = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) all.set(p, (at += p.length) - p.length);
  return all;
}

/**
 * Per batch of `rows` rows (of `classes` values each): max |ours − theirs| ≤ rel · max |theirs|. Returns the worst
 * ratio seen (diff / (max |theirs|)), for the log.
 */
export function expectBatchesClose(
  ours: Float32Array,
  theirs: Float32Array,
  classes: number,
  rows: number,
  rel: number,
  label: string,
): number {
  expect(ours.length).toBe(theirs.length);
  let worst = 0;
  for (let start = 0; start < theirs.length; start += rows * classes) {
    const end = Math.min(theirs.length, start + rows * classes);
    let diff = 0,
      scale = 0;
    for (let i = start; i < end; i++) {
      diff = Math.max(diff, Math.abs(ours[i] - theirs[i]));
      scale = Math.max(scale, Math.abs(theirs[i]));
    }
    worst = Math.max(worst, diff / scale);
    // NOTE: negated, so a NaN on either side fails instead of slipping through a false comparison.
    if (!(diff <= rel * scale))
      throw new Error(
        `${label}, rows ${start / classes}..${end / classes - 1}: max |ours − onnxruntime| ${diff} > ${rel} × max |onnxruntime| ${scale}`,
      );
  }
  return worst;
}

/** Row-wise log-softmax (float64 inside) of [rows, classes] values. */
export function logSoftmaxRows(x: Float32Array, classes: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < x.length; r += classes) {
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, x[r + c]);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(x[r + c] - max);
    const lse = max + Math.log(sum);
    for (let c = 0; c < classes; c++) out[r + c] = x[r + c] - lse;
  }
  return out;
}

/** Row-wise softmax of [rows, classes] values. */
export function softmaxRows(x: Float32Array, classes: number): Float32Array {
  return logSoftmaxRows(x, classes).map(Math.exp);
}

/** Share of rows whose argmax equals the label. */
export function argmaxAccuracy(scores: Float32Array, labels: ArrayLike<number>, classes: number) {
  let correct = 0;
  for (let r = 0; r < labels.length; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++)
      if (scores[r * classes + c] > scores[r * classes + best]) best = c;
    if (best === labels[r]) correct++;
  }
  return correct / labels.length;
}

// Mini-batches as tensors: gather rows of a dataset by index into an NCHW input and a label tensor.
import { Tensor } from '../tensor/index.ts';

/**
 * What training and evaluation need of a dataset. Declared here, structurally, so nn does not import data
 * (data sits below nn in the design's dependency order); data's Dataset satisfies it.
 */
export interface ImageSet {
  images: Float32Array;
  labels: Uint8Array;
  shape: readonly [number, number, number];
  count: number;
}

/**
 * Batch of rows order[start .. start+size) as x [n, C, H, W] and y [n]: the last batch of an epoch is short
 * and one starting past the end is empty. An index outside [0, count) is a RangeError.
 */
export function gatherBatch(
  ds: ImageSet,
  order: ArrayLike<number>,
  start: number,
  size: number,
): { x: Tensor; y: Tensor } {
  const n = Math.max(0, Math.min(size, order.length - start));
  const per = ds.shape[0] * ds.shape[1] * ds.shape[2];
  const x = new Float32Array(n * per);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const row = order[start + i];
    if (!(Number.isInteger(row) && row >= 0 && row < ds.count))
      throw new RangeError(`batch: index ${row} out of range [0, ${ds.count})`);
    x.set(ds.images.subarray(row * per, (row + 1) * per), i * per);
    y[i] = ds.labels[row];
  }
  return { x: new Tensor([n, ...ds.shape], x), y: new Tensor([n], y) };
}

/** 0..n-1, the identity order for evaluation. */
export function identityOrder(n: number): Uint32Array {
  const o = new Uint32Array(n);
  for (let i = 0; i < n; i++) o[i] = i;
  return o;
}

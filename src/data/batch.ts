// Mini-batch gathering and subsets by index list: the trainer walks a seeded permutation through takeBatch.
import type { Dataset } from './dataset.ts';

/** A gathered mini-batch: n images (NCHW, contiguous) and their labels. */
export interface Batch {
  x: Float32Array;
  y: Uint8Array;
  n: number;
}

function imageSize(ds: Dataset): number {
  return ds.shape[0] * ds.shape[1] * ds.shape[2];
}

function checkIndex(ds: Dataset, i: number): void {
  if (!(Number.isInteger(i) && i >= 0 && i < ds.count)) throw new RangeError(`${ds.name}: index ${i} out of range [0, ${ds.count})`);
}

/**
 * Copies samples `indices[start .. start+size)` of `ds` into a new batch; the last batch of an epoch is
 * short (n < size) and one starting past the end is empty.
 */
export function takeBatch(ds: Dataset, indices: ArrayLike<number>, start: number, size: number): Batch {
  const per = imageSize(ds);
  const n = Math.max(0, Math.min(size, indices.length - start));
  const x = new Float32Array(n * per);
  const y = new Uint8Array(n);
  for (let b = 0; b < n; b++) {
    const i = indices[start + b];
    checkIndex(ds, i);
    x.set(ds.images.subarray(i * per, (i + 1) * per), b * per);
    y[b] = ds.labels[i];
  }
  return { x, y, n };
}

/** A new Dataset holding the listed samples in list order (copied); name gets a `[subset n]` suffix. */
export function subset(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const { x, y, n } = takeBatch(ds, indices, 0, indices.length);
  return { ...ds, name: `${ds.name}[subset ${n}]`, images: x, labels: y, count: n, shape: [...ds.shape], classes: [...ds.classes] };
}

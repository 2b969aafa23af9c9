// Subsets of a dataset by index list (the evaluation subsets of the audit and the goldens). Gathering itself
// is nn's gatherBatch, the one the trainer uses, so there is a single copy of that loop.
import type { Dataset } from './dataset.ts';
import { gatherBatch } from '../nn/index.ts';

/** A new Dataset holding the listed samples in list order (copied); name gets a `[subset n]` suffix. */
export function subset(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const { x, y } = gatherBatch(ds, indices, 0, indices.length);
  const n = y.size;
  return {
    ...ds,
    name: `${ds.name}[subset ${n}]`,
    images: x.data as Float32Array,
    labels: Uint8Array.from(y.data),
    count: n,
    shape: [...ds.shape],
    classes: [...ds.classes],
  };
}

// Clean accuracy of a model on a labelled image set, batched, without recording gradients.
import type { Sequential } from './sequential.ts';
import { gatherBatch, identityOrder, type ImageSet } from './batches.ts';

/** Fraction of rows (in `order`, default all) whose prediction equals the label, plus the raw counts. */
export function accuracy(
  model: Sequential,
  ds: ImageSet,
  order: ArrayLike<number> = identityOrder(ds.count),
  batchSize = 256,
): { accuracy: number; correct: number; count: number } {
  let correct = 0;
  for (let start = 0; start < order.length; start += batchSize) {
    const { x, y } = gatherBatch(ds, order, start, batchSize);
    const pred = model.predict(x);
    for (let i = 0; i < pred.length; i++) if (pred[i] === y.data[i]) correct++;
  }
  return { accuracy: order.length ? correct / order.length : 0, correct, count: order.length };
}

// Reference hash-scatter: folds a virtual-weight gradient back onto the K real weights (scatter-add with signs),
// the transpose of hash-gather.
import { type HashIndex, alloc, shapeStr, Tensor } from '../../tensor/index.ts';

export function hashScatter(dV: Tensor, table: HashIndex): Tensor {
  if (dV.size !== table.rows * table.cols)
    throw new Error(
      `hash-scatter: gradient ${shapeStr(dV.shape)} does not fit a ${table.rows}×${table.cols} table`,
    );
  const dw = alloc(dV.dtype, table.buckets);
  const { bucket, sign } = table;
  for (let e = 0; e < dV.size; e++) dw[bucket[e]] += sign[e] * dV.data[e];
  return new Tensor([table.buckets], dw);
}

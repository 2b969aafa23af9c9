// Reference HashedNets kernels: expand the K real weights into the full virtual matrix, and fold a virtual
// gradient back onto the K real weights (scatter-add with signs).
import { type HashIndex, alloc, shapeStr, Tensor } from '../../tensor/index.ts';

export function hashGather(w: Tensor, table: HashIndex): Tensor {
  if (w.size !== table.buckets) throw new Error(`hashGather: ${table.buckets} real weights expected, got ${shapeStr(w.shape)}`);
  const n = table.rows * table.cols;
  const V = alloc(w.dtype, n);
  const { bucket, sign } = table;
  for (let e = 0; e < n; e++) V[e] = sign[e] * w.data[bucket[e]];
  return new Tensor([table.rows, table.cols], V);
}

export function hashScatter(dV: Tensor, table: HashIndex): Tensor {
  if (dV.size !== table.rows * table.cols) throw new Error(`hashScatter: gradient ${shapeStr(dV.shape)} does not fit a ${table.rows}×${table.cols} table`);
  const dw = alloc(dV.dtype, table.buckets);
  const { bucket, sign } = table;
  for (let e = 0; e < dV.size; e++) dw[bucket[e]] += sign[e] * dV.data[e];
  return new Tensor([table.buckets], dw);
}

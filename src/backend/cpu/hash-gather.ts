// Reference hash-gather: expands a HashedNets layer's K real weights into its full virtual matrix,
// V[e] = sign[e] · w[bucket[e]].
import { type HashIndex, alloc, shapeStr, Tensor } from '../../tensor/index.ts';

export function hashGather(w: Tensor, table: HashIndex): Tensor {
  if (w.size !== table.buckets)
    throw new Error(
      `hash-gather: ${table.buckets} real weights expected, got ${shapeStr(w.shape)}`,
    );
  const n = table.rows * table.cols;
  const V = alloc(w.dtype, n);
  const { bucket, sign } = table;
  for (let e = 0; e < n; e++) V[e] = sign[e] * w.data[bucket[e]];
  return new Tensor([table.rows, table.cols], V);
}

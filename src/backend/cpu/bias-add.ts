// Reference bias-add: x[N, C, ...] + b[C] along axis 1 (dense and conv2d outputs alike).
import { alloc, shapeStr, Tensor } from '../../tensor/index.ts';
import { resultDType } from './elementwise.ts';

/** x[N, C, ...] + b[C] broadcast over every axis but 1. */
export function biasAdd(x: Tensor, b: Tensor): Tensor {
  if (x.rank < 2 || b.rank !== 1 || b.shape[0] !== x.shape[1]) {
    throw new Error(
      `bias-add: bias ${shapeStr(b.shape)} does not match axis 1 of ${shapeStr(x.shape)}`,
    );
  }
  const [n, c] = x.shape;
  const inner = x.size / (n * c) || 0;
  const out = alloc(resultDType(x, b), x.size);
  for (let i = 0; i < n; i++)
    for (let ch = 0; ch < c; ch++) {
      const bv = b.data[ch];
      const base = (i * c + ch) * inner;
      for (let k = base; k < base + inner; k++) out[k] = x.data[k] + bv;
    }
  return new Tensor(x.shape, out);
}

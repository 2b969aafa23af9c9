// Reference softmax along the last axis, and the max-subtracted row statistics that log-softmax and
// cross-entropy share with it (for stability: never exp of a large number, never log 0).
import { alloc, shapeStr, Tensor } from '../../tensor/index.ts';

export function rows(x: Tensor, what: string): { count: number; len: number } {
  if (x.rank < 1 || x.shape[x.rank - 1] === 0)
    throw new Error(`${what}: needs a non-empty last axis, got ${shapeStr(x.shape)}`);
  const len = x.shape[x.rank - 1];
  return { count: x.size / len, len };
}

/** max_k z_k and log Σ_k exp(z_k − max) of one row. */
export function rowStats(
  z: ArrayLike<number>,
  off: number,
  len: number,
): { m: number; lse: number } {
  let m = -Infinity;
  for (let k = 0; k < len; k++) if (z[off + k] > m) m = z[off + k];
  let s = 0;
  for (let k = 0; k < len; k++) s += Math.exp(z[off + k] - m);
  return { m, lse: Math.log(s) };
}

export function softmax(x: Tensor): Tensor {
  const { count, len } = rows(x, 'softmax');
  const out = alloc(x.dtype, x.size);
  for (let r = 0; r < count; r++) {
    const { m, lse } = rowStats(x.data, r * len, len);
    for (let k = 0; k < len; k++) out[r * len + k] = Math.exp(x.data[r * len + k] - m - lse);
  }
  return new Tensor(x.shape, out);
}

// Reference softmax, log-softmax and cross-entropy along the last axis, all max-subtracted for stability.
import { alloc, shapeStr, Tensor } from '../../tensor/index.ts';

function rows(x: Tensor, what: string): { count: number; len: number } {
  if (x.rank < 1 || x.shape[x.rank - 1] === 0) throw new Error(`${what}: needs a non-empty last axis, got ${shapeStr(x.shape)}`);
  const len = x.shape[x.rank - 1];
  return { count: x.size / len, len };
}

/** max_k z_k and log Σ_k exp(z_k − max) of one row. */
function rowStats(z: ArrayLike<number>, off: number, len: number): { m: number; lse: number } {
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

export function logSoftmax(x: Tensor): Tensor {
  const { count, len } = rows(x, 'logSoftmax');
  const out = alloc(x.dtype, x.size);
  for (let r = 0; r < count; r++) {
    const { m, lse } = rowStats(x.data, r * len, len);
    for (let k = 0; k < len; k++) out[r * len + k] = x.data[r * len + k] - m - lse;
  }
  return new Tensor(x.shape, out);
}

/** loss_i = −log softmax(z_i)[y_i] = m + lse − z_{i,y_i}; never exp of a large number, never log 0. */
export function crossEntropy(logits: Tensor, labels: Tensor): Tensor {
  if (logits.rank !== 2 || labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new Error(`crossEntropy: logits ${shapeStr(logits.shape)} and labels ${shapeStr(labels.shape)} must be [N,K] and [N]`);
  }
  const [n, len] = logits.shape;
  const out = alloc(logits.dtype, n);
  for (let r = 0; r < n; r++) {
    const y = labels.data[r];
    if (!Number.isInteger(y) || y < 0 || y >= len) throw new Error(`crossEntropy: label ${y} at row ${r} outside [0, ${len})`);
    const { m, lse } = rowStats(logits.data, r * len, len);
    out[r] = m + lse - logits.data[r * len + y];
  }
  return new Tensor([n], out);
}

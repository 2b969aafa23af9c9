// Reference cross-entropy: per-row −log softmax(z)[y] of [N, K] logits and [N] integer labels.
import { alloc, shapeStr, Tensor } from '../../tensor/index.ts';
import { rowStats } from './softmax.ts';

/** loss_i = −log softmax(z_i)[y_i] = m + lse − z_{i,y_i}; never exp of a large number, never log 0. */
export function crossEntropy(logits: Tensor, labels: Tensor): Tensor {
  if (logits.rank !== 2 || labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new Error(
      `crossEntropy: logits ${shapeStr(logits.shape)} and labels ${shapeStr(labels.shape)} must be [N,K] and [N]`,
    );
  }
  const [n, len] = logits.shape;
  const out = alloc(logits.dtype, n);
  for (let r = 0; r < n; r++) {
    const y = labels.data[r];
    if (!Number.isInteger(y) || y < 0 || y >= len)
      throw new Error(`crossEntropy: label ${y} at row ${r} outside [0, ${len})`);
    const { m, lse } = rowStats(logits.data, r * len, len);
    out[r] = m + lse - logits.data[r * len + y];
  }
  return new Tensor([n], out);
}

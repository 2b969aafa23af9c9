// Reference log-softmax along the last axis: z − max − log Σ exp(z − max).
import { alloc, Tensor } from '../../tensor/index.ts';
import { rows, rowStats } from './softmax.ts';

export function logSoftmax(x: Tensor): Tensor {
  const { count, len } = rows(x, 'log-softmax');
  const out = alloc(x.dtype, x.size);
  for (let r = 0; r < count; r++) {
    const { m, lse } = rowStats(x.data, r * len, len);
    for (let k = 0; k < len; k++) out[r * len + k] = x.data[r * len + k] - m - lse;
  }
  return new Tensor(x.shape, out);
}

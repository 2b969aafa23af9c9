// Training losses over logits: mean softmax cross-entropy.
import * as ops from '../autodiff/ops.ts';
import type { Tensor } from '../tensor/tensor.ts';

/** Mean over the batch of −log softmax(logits)[label]; labels are a [N] tensor of class indices. */
export function crossEntropyLoss(logits: Tensor, labels: Tensor): Tensor {
  return ops.mean(ops.crossEntropy(logits, labels));
}

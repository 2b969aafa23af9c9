// Training losses over logits: mean softmax cross-entropy, and knowledge distillation from a teacher's logits.
import { ops } from '../autodiff/index.ts';
import type { Tensor } from '../tensor/index.ts';

/** Mean over the batch of −log softmax(logits)[label]; labels are a [N] tensor of class indices. */
export function crossEntropyLoss(logits: Tensor, labels: Tensor): Tensor {
  return ops.mean(ops.crossEntropy(logits, labels));
}

export interface Distillation {
  /** Softmax temperature T applied to both the teacher's and the student's logits. */
  temperature: number;
  /** Weight a of the soft term; the hard-label cross-entropy gets 1 − a. */
  weight: number;
}

/**
 * Knowledge distillation (Hinton, Vinyals & Dean 2015): (1 − a)·CE(z, y) + a·T²·mean_i KL(softmax(t_i/T) ‖ softmax(z_i/T)).
 * The T² keeps the soft term's gradient on the hard term's scale as T changes; KL rather than the soft
 * cross-entropy so the reported loss is 0 when the student matches the teacher (same gradient). `teacherLogits`
 * are constants (computed outside the tape), so only the student is differentiated.
 */
export function distillationLoss(
  logits: Tensor,
  labels: Tensor,
  teacherLogits: Tensor,
  d: Distillation,
): Tensor {
  const t = d.temperature;
  const teacherLog = ops.logSoftmax(ops.mul(teacherLogits, 1 / t));
  const kl = ops.mean(
    ops.sum(
      ops.mul(ops.exp(teacherLog), ops.sub(teacherLog, ops.logSoftmax(ops.mul(logits, 1 / t)))),
      [1],
    ),
  );
  return ops.add(
    ops.mul(crossEntropyLoss(logits, labels), 1 - d.weight),
    ops.mul(kl, d.weight * t * t),
  );
}

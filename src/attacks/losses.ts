// Attack losses of logits z [N, K] and labels y, each a sum of per-row terms (so a row's input gradient is
// its own example's): `ce`, `cw` (margin, capped at κ), `dlr` (Croce & Hein 2020) and `ce-rescaled` (CE on
// z/T, the counter to logit scaling). Attacks maximize them.
import { ops } from '../autodiff/index.ts';
import { Tensor } from '../tensor/index.ts';

export type LossName = 'ce' | 'cw' | 'dlr' | 'ce-rescaled';

export interface LossOptions {
  /** cw: confidence κ (the margin stops counting beyond it). */
  kappa?: number;
  /** ce-rescaled: the temperature T dividing the logits. */
  temperature?: number;
}

const BIG = 1e30;

/** Constant [N, K] one-hot rows (1 at column idx[i]). */
export function oneHotRows(idx: readonly number[], k: number): Tensor {
  const out = new Float32Array(idx.length * k);
  idx.forEach((c, i) => (out[i * k + c] = 1));
  return new Tensor([idx.length, k], out);
}

/** z_y per row (differentiable in z). */
const pick = (z: Tensor, mask: Tensor) => ops.sum(ops.mul(z, mask), [1]);
/** max_{i≠y} z_i per row (differentiable: the gradient goes to the largest other logit). */
const maxOther = (z: Tensor, mask: Tensor) => ops.max(ops.sub(z, ops.mul(mask, BIG)), 1);

/** Per-row margin max_{i≠y} z_i − z_y: positive exactly when the row is misclassified. */
export function margin(z: Tensor, labels: readonly number[]): Tensor {
  const mask = oneHotRows(labels, z.shape[1]);
  return ops.sub(maxOther(z, mask), pick(z, mask));
}

/** Row-wise descending order of the values of z (for DLR's π1, π3). */
function sortedIndices(z: Tensor): number[][] {
  const [n, k] = z.shape;
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: k }, (_, j) => j).sort(
      (a, b) => z.data[i * k + b] - z.data[i * k + a] || a - b,
    ),
  );
}

/** The summed loss to maximize. */
export function attackLoss(
  name: LossName,
  z: Tensor,
  labels: readonly number[],
  opts: LossOptions = {},
): Tensor {
  const y = new Tensor([labels.length], Float32Array.from(labels));
  switch (name) {
    case 'ce':
      return ops.sum(ops.crossEntropy(z, y));
    case 'ce-rescaled':
      return ops.sum(ops.crossEntropy(ops.div(z, opts.temperature ?? 1), y));
    case 'cw':
      // Carlini & Wagner's f, negated to maximize: min(max_{i≠y} z_i − z_y, κ).
      return ops.sum(ops.minimum(margin(z, labels), opts.kappa ?? 0));
    case 'dlr': {
      if (z.shape[1] < 3) throw new Error('dlr loss needs at least 3 classes');
      const order = sortedIndices(z);
      const k = z.shape[1];
      const top1 = oneHotRows(
          order.map((o) => o[0]),
          k,
        ),
        top3 = oneHotRows(
          order.map((o) => o[2]),
          k,
        );
      const denom = ops.add(ops.sub(pick(z, top1), pick(z, top3)), 1e-12);
      return ops.sum(ops.div(margin(z, labels), denom));
    }
  }
}

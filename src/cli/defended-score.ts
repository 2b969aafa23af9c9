// How `harden` measures a defended model, shared with `eval` so eval reproduces the recorded numbers exactly:
// clean accuracy and the share of exactly-zero input gradients over the test split, in batches of 256, with
// the per-batch request seeds of a random stage derived from one seed.
import { ops } from '../autodiff/index.ts';
import type { DefendedModel } from '../defense/index.ts';
import { deriveStream } from '../hash/index.ts';
import { gatherBatch, identityOrder, type ImageSet } from '../nn/index.ts';
import { argmaxRow } from '../tensor/index.ts';

export interface Scores {
  accuracy: number;
  correct: number;
  count: number;
  predictions: Int32Array;
  zeroGradientShare: number;
}

/**
 * Accuracy, predictions and the share of inputs whose cross-entropy input gradient is exactly zero in float32
 * (every component), over the first `count` test images (default all) in batches of 256; batch b of a
 * randomized model uses request seed deriveStream(seed, 2b) for its gradient and deriveStream(seed, 2b + 1)
 * for its forward pass (a static model's logits come from the gradient pass).
 */
export function scoreDefended(
  model: DefendedModel,
  test: ImageSet,
  seed: number,
  count = test.count,
): Scores {
  const order = identityOrder(count);
  const predictions = new Int32Array(count);
  let correct = 0,
    zero = 0;
  for (let b = 0, start = 0; start < count; b++, start += 256) {
    const { x, y } = gatherBatch(test, order, start, 256);
    const r = model.lossGradients(
      x,
      (z) => ops.sum(ops.crossEntropy(z, y)),
      { input: true },
      deriveStream(seed, 2 * b),
    );
    const logits = model.randomized ? model.forward(x, deriveStream(seed, 2 * b + 1)) : r.logits;
    const k = logits.shape[1],
      d = x.size / x.shape[0];
    for (let i = 0; i < y.size; i++) {
      const best = argmaxRow(logits.data, i * k, k);
      predictions[start + i] = best;
      if (best === y.data[i]) correct++;
      let allZero = true;
      for (let q = i * d; q < (i + 1) * d && allZero; q++) if (r.dx!.data[q] !== 0) allZero = false;
      if (allZero) zero++;
    }
  }
  return {
    accuracy: correct / count,
    correct,
    count,
    predictions,
    zeroGradientShare: zero / count,
  };
}

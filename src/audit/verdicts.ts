// The audit's verdict rule, shared by the local and the remote audit: an image counts as misclassified when most
// of the fresh queries get it wrong (also reported: any of them, the first one), and success rates over the
// images that were classified correctly to begin with.
import { noGrad } from '../autodiff/index.ts';
import type { DefendedModel } from '../defense/index.ts';
import { argmaxRows, type Tensor } from '../tensor/index.ts';

/** Fresh queries behind a randomized model's verdict (a deterministic one needs just one). */
export const VERDICT_QUERIES = 10;

export interface Verdicts {
  majority: boolean[];
  any: boolean[];
  single: boolean[];
}

/** Per row, wrong by most of / any of / the first of `predictions` (one array of predicted labels per query). */
export function tallyVerdicts(
  labels: readonly number[],
  predictions: readonly (readonly number[])[],
): Verdicts {
  const wrong = labels.map(() => 0);
  for (const pred of predictions)
    pred.forEach((p, i) => {
      if (p !== labels[i]) wrong[i]++;
    });
  return {
    majority: wrong.map((w) => w > predictions.length / 2),
    any: wrong.map((w) => w > 0),
    single: predictions[0].map((p, i) => p !== labels[i]),
  };
}

/** Verdicts of 10 fresh queries of a local model, in query order (a randomized model draws its seeds in turn). */
export function verdicts(model: DefendedModel, x: Tensor, labels: readonly number[]): Verdicts {
  const predictions = Array.from({ length: VERDICT_QUERIES }, () =>
    argmaxRows(noGrad(() => model.forward(x))),
  );
  return tallyVerdicts(labels, predictions);
}

/** Share of the rows marked in `among` that `hits` marks too (0 when `among` marks none). */
export function rate(hits: readonly boolean[], among: readonly boolean[]): number {
  let n = 0,
    s = 0;
  among.forEach((c, i) => {
    if (c) {
      n++;
      if (hits[i]) s++;
    }
  });
  return n ? s / n : 0;
}

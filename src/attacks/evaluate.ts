// The one evaluate step every attack ends with (docs/design.md §4): projection onto the ε-ball and [0, 1],
// the final (counted) prediction, success and perturbation norms, and the verdict rule for randomized
// targets (most of 10 fresh queries). Attacks never re-implement any of it.
import { Tensor } from '../tensor/index.ts';
import type { Target } from './target.ts';
import type { AttackResult, Budget } from './types.ts';

/** Row size of a batch tensor. */
export const rowSize = (x: Tensor) => x.size / Math.max(1, x.shape[0]);

/**
 * Projects xAdv onto the budget's ball around x (per row: clamp for L∞, rescale for L2) and onto [0, 1].
 * Clipping to [0, 1] after the ball never leaves it: x is in [0, 1], so clipping only moves toward x.
 */
export function project(x: Tensor, xAdv: Tensor, budget: Budget | null): Tensor {
  if (xAdv.shape.join() !== x.shape.join())
    throw new Error(
      `attack: adversarial batch [${xAdv.shape.join(', ')}] does not match the input [${x.shape.join(', ')}]`,
    );
  const n = x.shape[0],
    d = rowSize(x);
  const out = new Float32Array(x.size);
  const eps = budget ? budget.eps : Infinity;
  for (let r = 0; r < n; r++) {
    let scale = 1;
    if (budget?.norm === 'l2' && Number.isFinite(eps)) {
      let s = 0;
      for (let i = r * d; i < (r + 1) * d; i++) s += (xAdv.data[i] - x.data[i]) ** 2;
      const norm = Math.sqrt(s);
      if (norm > eps) scale = eps / norm;
    }
    for (let i = r * d; i < (r + 1) * d; i++) {
      let delta = (xAdv.data[i] - x.data[i]) * scale;
      if (budget?.norm === 'linf') delta = Math.min(eps, Math.max(-eps, delta));
      const v = x.data[i] + delta;
      out[i] = v < 0 ? 0 : v > 1 ? 1 : Number.isNaN(v) ? x.data[i] : v;
    }
  }
  return new Tensor(x.shape, out);
}

/** Per-row ‖xAdv − x‖∞ and ‖xAdv − x‖₂ (in float64). */
export function perturbationNorms(x: Tensor, xAdv: Tensor): { linf: number[]; l2: number[] } {
  const n = x.shape[0],
    d = rowSize(x);
  const linf: number[] = [],
    l2: number[] = [];
  for (let r = 0; r < n; r++) {
    let m = 0,
      s = 0;
    for (let i = r * d; i < (r + 1) * d; i++) {
      const v = Math.abs(xAdv.data[i] - x.data[i]);
      if (v > m) m = v;
      s += v * v;
    }
    linf.push(m);
    l2.push(Math.sqrt(s));
  }
  return { linf, l2 };
}

/** Labels of a label tensor as integers. */
export const labelsOf = (y: Tensor): number[] => Array.from(y.data, (v) => Math.round(v));

/**
 * Fresh queries behind one verdict on a randomized target (docs/design.md §5): a point is misclassified when
 * more than half of them misclassify it. A deterministic target's one answer is the truth: 1 query.
 */
export const VERDICT_QUERIES = 10;

/** Most queries one verdict on a row of `target` may cost: VERDICT_QUERIES if it is randomized, else 1. */
export const verdictCost = (target: Target): number => (target.randomized ? VERDICT_QUERIES : 1);

/**
 * Whether each row of `cand` is misclassified (prediction ≠ labels[i]) and the class reported for it. On a
 * deterministic target: one predict. On a randomized one: when at least `need` of VERDICT_QUERIES fresh
 * predicts misclassify it (default 6: most of 10; Square stops its search only at 10); a row stops being
 * asked once the rest cannot change its verdict (for 6: 6 wrong or 5 right, so 5 to 10 queries). Reported
 * class: the most frequent wrong answer (ties to the lowest class) when misclassified, else the label, so
 * `predictions[i] ≠ labels[i]` exactly when `wrong[i]`. Returns the queries each row spent; the target's own
 * counter (and budget) sees the same. `charge(i)` is called for each as it is answered, so an attack's counts
 * stay exact when a budgeted target refuses a later round (QueryBudgetExceeded).
 */
export async function verdict(
  target: Target,
  cand: Tensor,
  labels: readonly number[],
  need = Math.floor(VERDICT_QUERIES / 2) + 1,
  charge?: (row: number) => void,
): Promise<{ wrong: boolean[]; predictions: number[]; queries: number[] }> {
  const n = labels.length;
  if (!n) return { wrong: [], predictions: [], queries: [] };
  if (!target.randomized) {
    const pred = await target.predict(cand);
    pred.forEach((_, i) => charge?.(i));
    return {
      wrong: pred.map((p, i) => p !== labels[i]),
      predictions: pred,
      queries: pred.map(() => 1),
    };
  }
  const wrong = new Array<number>(n).fill(0),
    right = new Array<number>(n).fill(0),
    queries = new Array<number>(n).fill(0);
  const votes = labels.map(() => new Map<number, number>());
  let open = labels.map((_, i) => i);
  for (let q = 0; q < VERDICT_QUERIES && open.length; q++) {
    const pred = await target.predict(open.length === n ? cand : takeRows(cand, open));
    open.forEach((i, k) => {
      queries[i]++;
      charge?.(i);
      if (pred[k] === labels[i]) right[i]++;
      else {
        wrong[i]++;
        votes[i].set(pred[k], (votes[i].get(pred[k]) ?? 0) + 1);
      }
    });
    open = open.filter((i) => wrong[i] < need && right[i] <= VERDICT_QUERIES - need);
  }
  const isWrong = wrong.map((w) => w >= need);
  const predictions = labels.map((l, i) => {
    if (!isWrong[i]) return l;
    let best = -1,
      count = 0;
    for (const [c, v] of votes[i])
      if (v > count || (v === count && c < best)) [best, count] = [c, v];
    return best;
  });
  return { wrong: isWrong, predictions, queries };
}

/**
 * What an attack knows when it starts: clean predictions (one counted query per row; a verdict of most of 10
 * on a randomized target) and the counters.
 */
export async function start(
  target: Target,
  x: Tensor,
  y: Tensor,
): Promise<{ labels: number[]; cleanPred: number[]; cleanCorrect: boolean[]; queries: number[] }> {
  if (x.rank < 2 || x.shape.slice(1).join() !== target.inputShape.join()) {
    throw new Error(
      `attack: input must be [N, ${target.inputShape.join(', ')}], got [${x.shape.join(', ')}]`,
    );
  }
  if (y.rank !== 1 || y.shape[0] !== x.shape[0])
    throw new Error(`attack: labels must be [${x.shape[0]}], got [${y.shape.join(', ')}]`);
  const labels = labelsOf(y);
  const clean = await verdict(target, x, labels);
  // The final check's queries (at most) are set aside now, so a budgeted oracle stops the attack before them.
  target.reserve?.(verdictCost(target) * x.shape[0]);
  return {
    labels,
    cleanPred: clean.predictions,
    cleanCorrect: clean.wrong.map((w) => !w),
    queries: clean.queries,
  };
}

/**
 * The shared final step: projects xAdv, asks the target once more per row (counted; most of 10 fresh queries
 * on a randomized target, `verdict`), and reports success (prediction ≠ label), norms and queries.
 */
export async function finish(
  target: Target,
  x: Tensor,
  xAdv: Tensor,
  y: Tensor,
  budget: Budget | null,
  s: { cleanCorrect: boolean[]; queries: number[] },
): Promise<AttackResult> {
  const projected = project(x, xAdv, budget);
  const labels = labelsOf(y);
  target.release?.(verdictCost(target) * x.shape[0]);
  const v = await verdict(target, projected, labels);
  return {
    xAdv: projected,
    success: v.wrong,
    cleanCorrect: s.cleanCorrect,
    queries: s.queries.map((q, i) => q + v.queries[i]),
    norms: perturbationNorms(x, projected),
    predictions: v.predictions,
  };
}

/** Rows `rows` of a batch tensor, as a new batch. */
export function takeRows(x: Tensor, rows: readonly number[]): Tensor {
  const d = rowSize(x);
  const out = new Float32Array(rows.length * d);
  rows.forEach((r, i) => out.set(x.data.subarray(r * d, (r + 1) * d) as Float32Array, i * d));
  return new Tensor([rows.length, ...x.shape.slice(1)], out);
}

/** Writes the rows of `part` back into `into` (a Float32Array holding the whole batch) at `rows`. */
export function putRows(into: Float32Array, part: Tensor, rows: readonly number[]): void {
  const d = rowSize(part);
  rows.forEach((r, i) => into.set(part.data.subarray(i * d, (i + 1) * d) as Float32Array, r * d));
}

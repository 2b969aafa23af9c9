// The one evaluate step every attack ends with (docs/design.md §4): projection onto the ε-ball and [0, 1],
// the final (counted) prediction, success and perturbation norms. Attacks never re-implement any of it.
import { Tensor } from '../tensor/tensor.ts';
import type { Target } from './target.ts';
import type { AttackResult, Budget } from './types.ts';

/** Row size of a batch tensor. */
export const rowSize = (x: Tensor) => x.size / Math.max(1, x.shape[0]);

/**
 * Projects xAdv onto the budget's ball around x (per row: clamp for L∞, rescale for L2) and onto [0, 1].
 * Clipping to [0, 1] after the ball never leaves it: x is in [0, 1], so clipping only moves toward x.
 */
export function project(x: Tensor, xAdv: Tensor, budget: Budget | null): Tensor {
  if (xAdv.shape.join() !== x.shape.join()) throw new Error(`attack: adversarial batch [${xAdv.shape.join(', ')}] does not match the input [${x.shape.join(', ')}]`);
  const n = x.shape[0], d = rowSize(x);
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
  const n = x.shape[0], d = rowSize(x);
  const linf: number[] = [], l2: number[] = [];
  for (let r = 0; r < n; r++) {
    let m = 0, s = 0;
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

/** What an attack knows when it starts: clean predictions (one counted query per row) and the counters. */
export async function start(target: Target, x: Tensor, y: Tensor): Promise<{ labels: number[]; cleanPred: number[]; cleanCorrect: boolean[]; queries: number[] }> {
  if (x.rank < 2 || x.shape.slice(1).join() !== target.inputShape.join()) {
    throw new Error(`attack: input must be [N, ${target.inputShape.join(', ')}], got [${x.shape.join(', ')}]`);
  }
  if (y.rank !== 1 || y.shape[0] !== x.shape[0]) throw new Error(`attack: labels must be [${x.shape[0]}], got [${y.shape.join(', ')}]`);
  const labels = labelsOf(y);
  const cleanPred = x.shape[0] ? await target.predict(x) : [];
  // The final check's queries are set aside now, so a budgeted oracle stops the attack before them.
  target.reserve?.(x.shape[0]);
  return { labels, cleanPred, cleanCorrect: cleanPred.map((p, i) => p === labels[i]), queries: labels.map(() => 1) };
}

/**
 * The shared final step: projects xAdv, asks the target once more per row (counted), and reports success
 * (prediction ≠ label), norms and queries.
 */
export async function finish(target: Target, x: Tensor, xAdv: Tensor, y: Tensor, budget: Budget | null, s: { cleanCorrect: boolean[]; queries: number[] }): Promise<AttackResult> {
  const projected = project(x, xAdv, budget);
  const labels = labelsOf(y);
  target.release?.(x.shape[0]);
  const predictions = x.shape[0] ? await target.predict(projected) : [];
  return {
    xAdv: projected,
    success: predictions.map((p, i) => p !== labels[i]),
    cleanCorrect: s.cleanCorrect,
    queries: s.queries.map((q) => q + 1),
    norms: perturbationNorms(x, projected),
    predictions,
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

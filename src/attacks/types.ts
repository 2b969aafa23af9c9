// The attack contract (docs/design.md §4): configuration in the constructor, target per call, and the result
// every attack returns. Inputs are NCHW float32 in [0, 1]; labels are class indices stored as floats.
import type { Tensor } from '../tensor/index.ts';
import type { Target } from './target.ts';

/** A perturbation budget: the norm and its radius (Infinity = unbounded). */
export interface Budget {
  norm: 'linf' | 'l2';
  eps: number;
}

export interface AttackResult {
  /** Adversarial inputs, projected onto the budget's ball around x and onto [0, 1]. */
  xAdv: Tensor;
  /** Per example: the final prediction differs from the label. */
  success: boolean[];
  /** Per example: the clean input was classified correctly (attack success rate counts only these). */
  cleanCorrect: boolean[];
  /** Per example: target queries the attack spent on it (forward or gradient evaluations, final check included). */
  queries: number[];
  /** Per example: ‖xAdv − x‖∞ and ‖xAdv − x‖₂. */
  norms: { linf: number[]; l2: number[] };
  /** Final predicted class per example. */
  predictions: number[];
}

export interface Attack {
  /** Short name for reports, e.g. "PGD-Linf(ce)". */
  readonly name: string;
  run(target: Target, x: Tensor, y: Tensor): Promise<AttackResult>;
}

/** Whether a count option (steps, restarts, queries, ...) is an integer ≥ min; NaN and fractions are not. */
export const intAtLeast = (v: number, min: number): boolean => Number.isInteger(v) && v >= min;

/** Attack success rate: the share of clean-correct examples that the attack misclassifies. */
export function successRate(r: AttackResult): number {
  let n = 0,
    s = 0;
  r.cleanCorrect.forEach((c, i) => {
    if (!c) return;
    n++;
    if (r.success[i]) s++;
  });
  return n ? s / n : 0;
}

/** Robust accuracy: the share of all examples still classified correctly after the attack. */
export function robustAccuracy(r: AttackResult): number {
  return r.success.length ? r.success.filter((s) => !s).length / r.success.length : 0;
}

/** Median of a list (NaN for an empty one). */
export function median(values: readonly number[]): number {
  if (!values.length) return NaN;
  const v = [...values].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

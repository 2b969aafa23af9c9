// The certified radius of one input: the largest ε at which it is certified, by bisection on a log scale. The
// answer is always a radius that was certified; it is the largest one (to the bisection's precision) where, as
// for these bounds in practice, a ball inside a certified ball is certified too.
import type { Sequential } from '../nn/index.ts';
import { certify, type CertifyOptions, type Randomness } from './margins.ts';

export interface RadiusOptions extends CertifyOptions {
  /** Input range the ball is clipped to (default [0, 1]). */
  range?: readonly [number, number];
  randomness?: Randomness;
  /** Search interval [min, max] (default [10⁻⁶, 1]) and bisection steps over its log (default 12). */
  min?: number;
  max?: number;
  steps?: number;
}

/**
 * A radius in [min, max] at which (x, y) is certified, within a factor (max/min)^(2^−steps) below the largest
 * (12 steps over six decades: 0.4%); 0 when not certified even at min. Costs steps + 2 certifications.
 */
export function certifiedRadius(
  model: Sequential,
  x: ArrayLike<number>,
  y: number,
  options: RadiusOptions = {},
): number {
  const { range = [0, 1], randomness = {}, min = 1e-6, max = 1, steps = 12 } = options;
  const at = (e: number) => certify(model, x, y, e, range, randomness, options).certified;
  if (!at(min)) return 0;
  if (at(max)) return max;
  let lo = Math.log10(min),
    hi = Math.log10(max);
  for (let s = 0; s < steps; s++) {
    const mid = (lo + hi) / 2;
    if (at(10 ** mid)) lo = mid;
    else hi = mid;
  }
  return 10 ** lo;
}

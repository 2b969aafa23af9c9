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
  /** Asked before each certification after the first: true stops the search where it stands. */
  stop?: () => boolean;
}

/** A certified radius and the smallest radius found not certified (Infinity when none was). */
export interface RadiusBracket {
  radius: number;
  notCertified: number;
  /** Certifications run. */
  steps: number;
}

/**
 * A radius in [min, max] at which (x, y) is certified, within a factor (max/min)^(2^−steps) below the largest
 * (12 steps over six decades: 0.4%); 0 when not certified even at min. Costs at most steps + 2 certifications.
 */
export function certifiedRadius(
  model: Sequential,
  x: ArrayLike<number>,
  y: number,
  options: RadiusOptions = {},
): number {
  return radiusBracket(model, x, y, options).radius;
}

/**
 * The bisection with both ends: `radius` is certified (or 0), `notCertified` was refused. With `stop`, the
 * search may end early: the answer is still certified, only the bracket is wider.
 */
export function radiusBracket(
  model: Sequential,
  x: ArrayLike<number>,
  y: number,
  options: RadiusOptions = {},
): RadiusBracket {
  const { range = [0, 1], randomness = {}, min = 1e-6, max = 1, steps = 12, stop } = options;
  let runs = 0;
  const at = (e: number) => {
    runs++;
    return certify(model, x, y, e, range, randomness, options).certified;
  };
  if (!at(min)) return { radius: 0, notCertified: min, steps: runs };
  // The radii tested are kept as tested (a log and back would not give the same float). max is tested only if
  // the bisection climbs to it: a big ball is the slowest to bound and the least likely to be certified.
  let lo = min,
    hi = max,
    refuted = false;
  for (let s = 0; s < steps && !stop?.(); s++) {
    const mid = Math.sqrt(lo * hi); // the midpoint on the log scale
    if (at(mid)) lo = mid;
    else {
      hi = mid;
      refuted = true;
    }
  }
  if (!refuted && !stop?.()) {
    if (at(max)) return { radius: max, notCertified: Infinity, steps: runs };
  } else if (!refuted) return { radius: lo, notCertified: Infinity, steps: runs };
  return { radius: lo, notCertified: hi, steps: runs };
}

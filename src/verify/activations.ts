// Bound rules of the elementwise layers imported models bring (leaky relu, sigmoid, tanh, clip, affine): the
// error model of their float32 forward pass (src/nn/layers.ts), their interval image of a box, and the linear
// lower and upper bound of each element over its input box that back-substitution carries (docs/verify.md).
import type { LayerSpec } from '../nn/index.ts';
import type { Box } from './interval.ts';

/** The layers this file bounds. */
export type ElementwiseSpec = Extract<
  LayerSpec,
  { type: 'leaky-relu' | 'sigmoid' | 'tanh' | 'clip' | 'affine' }
>;

/** Unit roundoff of float32 and of float64. */
const U32 = 2 ** -24;
const U64 = 2 ** -53;
/** Underflow: a float32 product or sum that lands among subnormals is off by up to 2⁻¹⁵⁰ absolutely. */
const TINY = 2 ** -140;
/**
 * Float64 evaluation error of tanh, the sigmoid and their derivatives here (values in [−1, 1]; libm's tanh is
 * within a few ulps, 2.2·10⁻¹⁶ each): generous, and still far below every float32 term.
 */
const F64 = 1e-15;
/** The same for a derivative formed from it: (1 − t)(1 + t) with t off by F64 is off by about 2·F64. */
const DERIV64 = 4 * F64;

/**
 * Error of the engines' float32 tanh against the exact one. Both CPU engines compute Math.tanh in float64 and
 * round once to float32 (within u·|tanh| + 2⁻⁵³); tanh in float32 is not correctly rounded in general, so the
 * bound allows 4u relative plus 4u absolute (an implementation through (e²ˣ − 1)/(e²ˣ + 1) loses relative
 * accuracy near 0 but not absolute): at most 8u over tanh's range [−1, 1].
 */
const TANH_ERR = 8 * U32 + F64;
/**
 * Error of the sigmoid as the model computes it, ½·tanh(x/2) + ½: x/2 and the halving are exact (but for
 * underflow), so half the tanh error plus the rounding of the final add, at most u·|result| ≤ u·(1 + 4u).
 */
const SIGMOID_ERR = 0.5 * TANH_ERR + U32 * (1 + 8 * U32) + 2 * TINY;

const tanh = Math.tanh;
const dTanh = (x: number) => {
  const t = Math.tanh(x);
  return (1 - t) * (1 + t);
};
const sigmoid = (x: number) => 0.5 * Math.tanh(0.5 * x) + 0.5;
const dSigmoid = (x: number) => 0.25 * dTanh(0.5 * x);

/** The constants the float32 forward multiplies with: α, clip bounds, scale and shift, rounded as it does. */
const f32 = Math.fround;

/** Per element of a [C, H, W] or [D] activation, the index of its affine scale/shift. */
function affineIndex(spec: Extract<LayerSpec, { type: 'affine' }>, shape: readonly number[]) {
  const plane = shape.length === 3 ? shape[1] * shape[2] : 1;
  return spec.scale.length === 1 ? () => 0 : (i: number) => Math.floor(i / plane);
}

/**
 * The output box of an elementwise layer. Monotone ones map [l, u] to [f(l), f(u)], widened by the float32
 * forward's error; clip is exact in float32 (its output is its input or a rounded bound); affine is interval
 * arithmetic (a negative scale swaps the ends) widened by the rounding of one multiply and one add.
 */
export function elementwiseBox(spec: ElementwiseSpec, box: Box): Box {
  const n = box.lo.length;
  const lo = new Float64Array(n),
    hi = new Float64Array(n);
  switch (spec.type) {
    case 'leaky-relu': {
      // y = x for x ≥ 0, fl(α·x) for x < 0, within u·α·|x| of α·x (plus underflow and the float64 product).
      const a = f32(spec.alpha),
        rel = U32 + 4 * U64;
      for (let i = 0; i < n; i++) {
        const l = box.lo[i],
          u = box.hi[i];
        lo[i] = l >= 0 ? l : a * l * (1 + rel) - TINY;
        hi[i] = u >= 0 ? u : a * u * (1 - rel) + TINY;
      }
      break;
    }
    case 'sigmoid':
    case 'tanh': {
      const [f, err] = spec.type === 'tanh' ? [tanh, TANH_ERR] : [sigmoid, SIGMOID_ERR];
      for (let i = 0; i < n; i++) {
        lo[i] = f(box.lo[i]) - err - F64;
        hi[i] = f(box.hi[i]) + err + F64;
      }
      break;
    }
    case 'clip': {
      // The float32 clamp of x returns x or the bound rounded to float32, m32 or M32; no float32 value lies
      // strictly between a bound and its rounding, so clip(x) with the rounded bounds bounds it exactly.
      const m = f32(spec.min ?? -Infinity),
        M = f32(spec.max ?? Infinity);
      for (let i = 0; i < n; i++) {
        lo[i] = Math.min(Math.max(box.lo[i], m), M);
        hi[i] = Math.min(Math.max(box.hi[i], m), M);
      }
      break;
    }
    case 'affine': {
      const at = affineIndex(spec, box.shape);
      for (let i = 0; i < n; i++) {
        const s = f32(spec.scale[at(i)]),
          t = f32(spec.shift[at(i)]);
        const l = box.lo[i],
          u = box.hi[i];
        const c = s * ((l + u) / 2) + t,
          r = Math.abs(s) * ((u - l) / 2);
        const slack = affineError(s, t, l, u) + 1e-12 * (Math.abs(c) + r);
        lo[i] = c - r - slack;
        hi[i] = c + r + slack;
      }
      break;
    }
  }
  return { shape: [...box.shape], lo, hi };
}

/** fl(fl(x·s) + t) against x·s + t over x in [l, u]: γ₂·(|s|·max|x| + |t|) (Higham §3.1), plus underflow. */
function affineError(s: number, t: number, l: number, u: number): number {
  const g2 = ((2 * U32) / (1 - 2 * U32)) * (1 + 1e-6);
  return g2 * (Math.abs(s) * Math.max(Math.abs(l), Math.abs(u)) + Math.abs(t)) + 2 * TINY;
}

/**
 * Per element i of a layer's output, a lower line loSlope·x + loIntercept − loErr and an upper line upSlope·x +
 * upIntercept + upErr of the value the float32 forward computes, for every x in the element's input box
 * [l, u]. `exact[i]` marks an element that is its input exactly (lines y = x, no error).
 */
export interface Relaxation {
  exact: Uint8Array;
  loSlope: Float64Array;
  loIntercept: Float64Array;
  loErr: Float64Array;
  upSlope: Float64Array;
  upIntercept: Float64Array;
  upErr: Float64Array;
}

type Line = [slope: number, intercept: number, err: number];

/** The line y = k·x + (y0 − k·x0) through (x0, y0), with the float64 rounding of its intercept in its error. */
function through(x0: number, y0: number, k: number, err: number): Line {
  return [k, y0 - k * x0, err + 4 * U64 * (Math.abs(y0) + Math.abs(k * x0))];
}

/**
 * Lines of a nondecreasing f that is convex for x ≤ p and concave for x ≥ p (sigmoid and tanh with p = 0, clip
 * with p anywhere in [min, max]) over [l, u]. The lower line goes through (l, f(l)) with slope min(f'(l⁺), chord):
 * the secant slope (f(x) − f(l))/(x − l) rises while f is convex and falls after, so its least value over
 * (l, u] is at one of the ends, f'(l⁺) or the chord. The upper line goes through (u, f(u)) with slope
 * min(f'(u⁻), chord), by the mirror argument. Lowering either slope keeps its line valid (the lower line only
 * sinks right of l, the upper only rises left of u), which is how float64 errors in the slopes are absorbed.
 * Where [l, u] lies on the convex side of a given p the lower line is the tangent at the midpoint instead (a
 * convex f lies above every tangent), on the concave side likewise the upper one: CROWN's choice, tighter than
 * the ends'. `err`: the float32 forward's error; `fErr`, `dErr`: the float64 errors of f and f' evaluated here.
 */
function sShaped(
  f: (x: number) => number,
  dRight: (x: number) => number,
  dLeft: (x: number) => number,
  p: number | null,
  l: number,
  u: number,
  err: number,
  fErr: number,
  dErr: number,
): [Line, Line] {
  const fl = f(l),
    fu = f(u);
  if (!(u > l)) return [through(l, fl, 0, err + fErr), through(u, fu, 0, err + fErr)];
  // The chord's numerator lowered by the evaluation errors of f(u), f(l) and their difference.
  const chord = (fu - fl - 3 * fErr) / (u - l);
  const safe = (k: number) => Math.max(0, k * (1 - 1e-9) - 2 * dErr);
  const tangent = (): Line => {
    const d = (l + u) / 2;
    // A slope off by dErr moves the line by at most dErr·|x − d| ≤ dErr·(u − l) anywhere in [l, u].
    return through(d, f(d), dRight(d), err + fErr + dErr * (u - l));
  };
  const lower: Line =
    p !== null && u <= p ? tangent() : through(l, fl, safe(Math.min(dRight(l), chord)), err + fErr);
  const upper: Line =
    p !== null && l >= p ? tangent() : through(u, fu, safe(Math.min(dLeft(u), chord)), err + fErr);
  return [lower, upper];
}

/** The linear relaxation of every element of an elementwise layer over its input box `pre`. */
export function relaxation(spec: ElementwiseSpec, pre: Box): Relaxation {
  const n = pre.lo.length;
  const out: Relaxation = {
    exact: new Uint8Array(n),
    loSlope: new Float64Array(n),
    loIntercept: new Float64Array(n),
    loErr: new Float64Array(n),
    upSlope: new Float64Array(n),
    upIntercept: new Float64Array(n),
    upErr: new Float64Array(n),
  };
  const set = (i: number, [a, b, e]: Line, [c, d, g]: Line) => {
    [out.loSlope[i], out.loIntercept[i], out.loErr[i]] = [a, b, e];
    [out.upSlope[i], out.upIntercept[i], out.upErr[i]] = [c, d, g];
  };
  const at = spec.type === 'affine' ? affineIndex(spec, pre.shape) : () => 0;
  for (let i = 0; i < n; i++) {
    const l = pre.lo[i],
      u = pre.hi[i];
    switch (spec.type) {
      case 'affine': {
        // Linear: the same line both ways, its rounding the error.
        const line: Line = [f32(spec.scale[at(i)]), f32(spec.shift[at(i)]), 0];
        line[2] = affineError(line[0], line[1], l, u);
        set(i, line, line);
        break;
      }
      case 'leaky-relu': {
        const a = f32(spec.alpha);
        // fl(α·x) is within u·α·|x| ≤ u·α·|l| of α·x where x < 0; x ≥ 0 passes exactly.
        const err = U32 * a * Math.abs(l) + TINY;
        if (l >= 0) out.exact[i] = 1;
        else if (u <= 0) set(i, [a, 0, err], [a, 0, err]);
        else {
          // Lower: y ≥ k·x for any k in [α, 1]; CROWN's adaptive choice. Upper: the chord from (l, α·l) to
          // (u, u), its slope rounded up (the chord through (l, α·l) only rises right of l).
          const k = u > -l ? 1 : a;
          const s = ((u - a * l) / (u - l)) * (1 + 8 * U64);
          set(i, [k, 0, err], through(l, a * l, s, err));
        }
        break;
      }
      case 'sigmoid':
      case 'tanh': {
        const [f, d, err] =
          spec.type === 'tanh' ? [tanh, dTanh, TANH_ERR] : [sigmoid, dSigmoid, SIGMOID_ERR];
        const [lower, upper] = sShaped(f, d, d, 0, l, u, err, F64, DERIV64);
        set(i, lower, upper);
        break;
      }
      case 'clip': {
        const m = spec.min ?? -Infinity,
          M = spec.max ?? Infinity;
        const m32 = f32(m),
          M32 = f32(M);
        if (l >= m && u <= M) out.exact[i] = 1;
        else if (u <= m) set(i, [0, m32, 0], [0, m32, 0]);
        else if (l >= M) set(i, [0, M32, 0], [0, M32, 0]);
        else {
          // The lines bound the exact clip; the float32 one returns m32 or M32 where it clips, as far from it
          // as the rounding of the bound. f and its one-sided derivatives are exact comparisons here.
          const err = Math.max(
            Number.isFinite(m) ? Math.abs(m32 - m) : 0,
            Number.isFinite(M) ? Math.abs(M32 - M) : 0,
          );
          const f = (x: number) => Math.min(Math.max(x, m), M);
          const dRight = (x: number) => (x >= m && x < M ? 1 : 0);
          const dLeft = (x: number) => (x > m && x <= M ? 1 : 0);
          // Boxes on one side of min or max were taken above, so no tangent is needed (p: null).
          const [lower, upper] = sShaped(f, dRight, dLeft, null, l, u, err, 0, 0);
          set(i, lower, upper);
        }
        break;
      }
    }
  }
  return out;
}

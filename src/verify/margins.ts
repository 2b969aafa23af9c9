// Certification of one input: lower bounds of the true class's margin over every other class, z_y − z_j, taken
// through the last layer (as CROWN-IBP does: (W_y − W_j)·h bounded over the box of h is tighter than
// lo(z_y) − hi(z_j)), and the verdict: certified when every margin's lower bound is positive.
import type { Sequential } from '../nn/index.ts';
import { backSubstitute, rows } from './back-substitute.ts';
import { gamma, inputBox, layerBox, layerWeights, type Box } from './interval.ts';
import { layerInputBoxes, type BoundCosts, type BoundMethod } from './methods.ts';

export interface Certificate {
  /** Lower bound of z_y − z_j for every class j (NaN at j = y). */
  marginLower: Float64Array;
  /** Every margin's lower bound is positive: no input in the ball changes the prediction from y. */
  certified: boolean;
  /** Bounds of the logits themselves (IBP). */
  logits: Box;
}

/**
 * A dense last layer's outputs over a box h and over weights anywhere in [w − r·|w|, w + r·|w|] (r = 0: the
 * weights as they are), widened by the float32 rounding of each output.
 */
function denseLogits(h: Box, w: Float64Array, b: Float64Array, outDim: number, r: number): Box {
  const n = h.lo.length,
    g = gamma(n + 1);
  const lo = new Float64Array(outDim),
    hi = new Float64Array(outDim);
  for (let o = 0; o < outDim; o++) {
    let l = b[o],
      u = b[o],
      mag = Math.abs(b[o]);
    for (let i = 0; i < n; i++) {
      const wi = w[o * n + i],
        spread = r * Math.abs(wi);
      const [a, c] = productRange(wi - spread, wi + spread, h.lo[i], h.hi[i]);
      l += a;
      u += c;
      mag += (Math.abs(wi) + spread) * Math.max(Math.abs(h.lo[i]), Math.abs(h.hi[i]));
    }
    const slack = g * mag + 1e-12 * (Math.abs(l) + Math.abs(u));
    lo[o] = l - slack;
    hi[o] = u + slack;
  }
  return { shape: [outDim], lo, hi };
}

/** The range of a·b for a in [a0, a1] and b in [b0, b1]: the extremes are among the four corners. */
function productRange(a0: number, a1: number, b0: number, b1: number): [number, number] {
  const p = [a0 * b0, a0 * b1, a1 * b0, a1 * b1];
  return [Math.min(...p), Math.max(...p)];
}

/**
 * Margins z_y − z_j over a box h of the last dense layer's input, with its weights anywhere in [w − r·|w|,
 * w + r·|w|] (each weight on its own: sound, if looser than the shared draw), widened by the float32 rounding
 * of z_y and of z_j.
 */
function denseMargins(
  h: Box,
  w: Float64Array,
  b: Float64Array,
  outDim: number,
  y: number,
  r: number,
): Float64Array {
  const n = h.lo.length;
  const g = gamma(n + 1);
  const mag = (k: number) => {
    let m = Math.abs(b[k]);
    for (let i = 0; i < n; i++)
      m += (1 + r) * Math.abs(w[k * n + i]) * Math.max(Math.abs(h.lo[i]), Math.abs(h.hi[i]));
    return m;
  };
  const my = mag(y);
  const out = new Float64Array(outDim).fill(NaN);
  for (let j = 0; j < outDim; j++) {
    if (j === y) continue;
    let low = b[y] - b[j],
      size = Math.abs(b[y] - b[j]);
    for (let i = 0; i < n; i++) {
      const wy = w[y * n + i],
        wj = w[j * n + i];
      const c = wy - wj,
        spread = r * (Math.abs(wy) + Math.abs(wj));
      low +=
        r === 0
          ? c >= 0
            ? c * h.lo[i]
            : c * h.hi[i]
          : productRange(c - spread, c + spread, h.lo[i], h.hi[i])[0];
      size += (Math.abs(c) + spread) * Math.max(Math.abs(h.lo[i]), Math.abs(h.hi[i]));
    }
    // z_y and z_j are each computed in float32 with their own rounding error; the float64 sum rounds too.
    out[j] = low - g * (my + mag(j)) - 1e-12 * size;
  }
  return out;
}

/**
 * What a randomized defense may do to the network's answer, for every draw of which the certificate must hold:
 * every last-layer weight w scaled by a factor in [1 − r, 1 + r] (lastLayerRelative = r), and the logits
 * multiplied by a positive factor (logitScale: positive factors keep every margin's sign; only their float32
 * rounding is accounted for).
 */
export interface Randomness {
  lastLayerRelative?: number;
  logitScale?: boolean;
}

export interface CertifyOptions {
  /** 'ibp' (default), 'crown-ibp' (IBP boxes, back-substituted margins) or 'crown' (back-substitution throughout). */
  method?: BoundMethod;
  /** Gains the milliseconds spent per layer. */
  costs?: BoundCosts;
}

/**
 * Certifies x (one example, the model's input shape) with label y against every L∞ perturbation of at most eps
 * within `range`. The last layer must be dense (plain or hashed) for margins through it; otherwise margins are
 * bounded from the logits' box. Under 'crown-ibp' and 'crown' each margin is the tighter of its interval and
 * its back-substituted lower bound (both sound).
 */
export function certify(
  model: Sequential,
  x: ArrayLike<number>,
  y: number,
  eps: number,
  range: readonly [number, number] = [0, 1],
  randomness: Randomness = {},
  options: CertifyOptions = {},
): Certificate {
  const method = options.method ?? 'ibp';
  const r = randomness.lastLayerRelative ?? 0;
  const layers = model.layers,
    last = layers[layers.length - 1];
  const input = inputBox(x, model.inputShape, eps, range);
  const boxes = layerInputBoxes(model, input, method, layers.length - 1, options.costs);
  const h = boxes[boxes.length - 1];
  const dense = last.type === 'dense' || last.type === 'hashed-dense';
  if (r > 0 && !dense)
    throw new Error(`verify: last-layer weight noise needs a dense last layer, not ${last.type}`);
  const weights = dense ? layerWeights(last, model.params) : null;
  const logits = weights
    ? denseLogits(h, weights.w, weights.b, weights.b.length, r)
    : layerBox(last, h, model.params, layers.length - 1);
  const classes = logits.lo.length;
  if (!Number.isInteger(y) || y < 0 || y >= classes)
    throw new RangeError(`verify: label ${y} is not a class of this model (0..${classes - 1})`);
  let marginLower: Float64Array;
  if (weights) {
    marginLower = denseMargins(h, weights.w, weights.b, classes, y, r);
  } else {
    marginLower = new Float64Array(classes).map((_, j) =>
      j === y ? NaN : logits.lo[y] - logits.hi[j],
    );
  }
  if (method !== 'ibp') {
    const t0 = options.costs ? performance.now() : 0;
    const back = weights
      ? marginRowsThroughDense(h, weights.w, weights.b, classes, y, r)
      : marginRowsOnLogits(classes, y);
    const at = weights ? layers.length - 1 : layers.length;
    if (!weights) boxes.push(logits);
    if (options.costs) options.costs.backward[layers.length - 1] += performance.now() - t0;
    const lower = backSubstitute(model, boxes, at, back.rows, options.costs?.backward);
    back.classes.forEach((j, k) => (marginLower[j] = Math.max(marginLower[j], lower[k])));
  }
  if (randomness.logitScale) {
    // α·z_y and α·z_j are each rounded to float32: their difference keeps the sign of α·(z_y − z_j) when the
    // margin exceeds u·(|z_y| + |z_j|), u = 2⁻²⁴ (relative, so α itself drops out).
    const top = (k: number) => Math.max(Math.abs(logits.lo[k]), Math.abs(logits.hi[k]));
    for (let j = 0; j < classes; j++)
      if (j !== y) marginLower[j] -= 2 ** -24 * (top(y) + top(j)) * (1 + 1e-6);
  }
  let certified = true;
  for (let j = 0; j < classes; j++) if (j !== y && !(marginLower[j] > 0)) certified = false;
  return { marginLower, certified, logits };
}

/** Back-substitution rows of the margins z_y − z_j (j ≠ y) over the logits themselves. */
function marginRowsOnLogits(classes: number, y: number) {
  const others = [...Array(classes).keys()].filter((j) => j !== y);
  const r = rows(others.length, classes);
  others.forEach((j, k) => {
    r.a[k * classes + y] = 1;
    r.a[k * classes + j] = -1;
  });
  return { rows: r, classes: others };
}

/**
 * Rows of the margins over the last dense layer's input h: (W_y − W_j)·h + b_y − b_j, less the float32
 * rounding of z_y and z_j (and the float64 rounding of W_y − W_j) and, with weights anywhere in
 * [w − r·|w|, w + r·|w|], the most the noise can take: r·(|W_y| + |W_j|)·max|h|.
 */
function marginRowsThroughDense(
  h: Box,
  w: Float64Array,
  b: Float64Array,
  classes: number,
  y: number,
  r: number,
) {
  const n = h.lo.length,
    g = gamma(n + 1) + (n + 1) * 2 ** -53 * (1 + 1e-6);
  const top = Float64Array.from(h.lo, (l, i) => Math.max(Math.abs(l), Math.abs(h.hi[i])));
  const weighted = (k: number) => {
    let m = 0;
    for (let i = 0; i < n; i++) m += Math.abs(w[k * n + i]) * top[i];
    return m;
  };
  const others = [...Array(classes).keys()].filter((j) => j !== y);
  const out = rows(others.length, n);
  const my = weighted(y);
  others.forEach((j, k) => {
    for (let i = 0; i < n; i++) out.a[k * n + i] = w[y * n + i] - w[j * n + i];
    const mj = weighted(j);
    const rounding = g * (Math.abs(b[y]) + Math.abs(b[j]) + (1 + r) * (my + mj));
    const noise = r * (my + mj);
    out.c[k] = b[y] - b[j] - rounding - noise;
    out.mag[k] = Math.abs(b[y]) + Math.abs(b[j]) + rounding + noise;
  });
  out.terms = 4;
  return { rows: out, classes: others };
}

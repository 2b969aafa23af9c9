// Certification of one input: lower bounds of the true class's margin over every other class, z_y − z_j, taken
// through the last layer (as CROWN-IBP does: (W_y − W_j)·h bounded over the box of h is tighter than
// lo(z_y) − hi(z_j)), and the verdict: certified when every margin's lower bound is positive.
import type { Sequential } from '../nn/index.ts';
import { gamma, inputBox, intervalBounds, layerBox, layerWeights, type Box } from './interval.ts';

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

/**
 * Certifies x (one example, the model's input shape) with label y against every L∞ perturbation of at most eps
 * within `range`. The last layer must be dense (plain or hashed) for margins through it; otherwise margins are
 * bounded from the logits' box.
 */
export function certify(
  model: Sequential,
  x: ArrayLike<number>,
  y: number,
  eps: number,
  range: readonly [number, number] = [0, 1],
  randomness: Randomness = {},
): Certificate {
  const r = randomness.lastLayerRelative ?? 0;
  const layers = model.layers,
    last = layers[layers.length - 1];
  const input = inputBox(x, model.inputShape, eps, range);
  const boxes = intervalBounds(model, input, layers.length - 1);
  const h = boxes.length ? boxes[boxes.length - 1] : input;
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

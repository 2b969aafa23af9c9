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

/** Margins z_y − z_j over a box h of the last dense layer's input, widened by its float32 rounding. */
function denseMargins(
  h: Box,
  w: Float64Array,
  b: Float64Array,
  outDim: number,
  y: number,
): Float64Array {
  const n = h.lo.length;
  const g = gamma(n + 1);
  const mag = (k: number) => {
    let m = Math.abs(b[k]);
    for (let i = 0; i < n; i++)
      m += Math.abs(w[k * n + i]) * Math.max(Math.abs(h.lo[i]), Math.abs(h.hi[i]));
    return m;
  };
  const my = mag(y);
  const out = new Float64Array(outDim).fill(NaN);
  for (let j = 0; j < outDim; j++) {
    if (j === y) continue;
    let low = b[y] - b[j],
      size = Math.abs(b[y] - b[j]);
    for (let i = 0; i < n; i++) {
      const c = w[y * n + i] - w[j * n + i];
      low += c >= 0 ? c * h.lo[i] : c * h.hi[i];
      size += Math.abs(c) * Math.max(Math.abs(h.lo[i]), Math.abs(h.hi[i]));
    }
    // z_y and z_j are each computed in float32 with their own rounding error; the float64 sum rounds too.
    out[j] = low - g * (my + mag(j)) - 1e-12 * size;
  }
  return out;
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
): Certificate {
  const layers = model.layers,
    last = layers[layers.length - 1];
  const input = inputBox(x, model.inputShape, eps, range);
  const boxes = intervalBounds(model, input, layers.length - 1);
  const h = boxes.length ? boxes[boxes.length - 1] : input;
  const logits = layerBox(last, h, model.params, layers.length - 1);
  const classes = logits.lo.length;
  if (!Number.isInteger(y) || y < 0 || y >= classes)
    throw new RangeError(`verify: label ${y} is not a class of this model (0..${classes - 1})`);
  let marginLower: Float64Array;
  if (last.type === 'dense' || last.type === 'hashed-dense') {
    const { w, b } = layerWeights(last, model.params);
    marginLower = denseMargins(h, w, b, classes, y);
  } else {
    marginLower = new Float64Array(classes).map((_, j) =>
      j === y ? NaN : logits.lo[y] - logits.hi[j],
    );
  }
  let certified = true;
  for (let j = 0; j < classes; j++) if (j !== y && !(marginLower[j] > 0)) certified = false;
  return { marginLower, certified, logits };
}

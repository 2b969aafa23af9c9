// Bound methods: the boxes of every layer's input that each method relaxes around. IBP and CROWN-IBP take them
// from interval propagation; CROWN tightens every activation's loose pre-activations by back-substitution first.
import type { LayerSpec, Sequential } from '../nn/index.ts';
import { backSubstitute, rows } from './back-substitute.ts';
import { layerBox, type Box } from './interval.ts';

export const BOUND_METHODS = ['ibp', 'crown-ibp', 'crown'] as const;
export type BoundMethod = (typeof BOUND_METHODS)[number];

/** Milliseconds spent per layer: interval propagation forward, back-substitution backward. */
export interface BoundCosts {
  forward: Float64Array;
  backward: Float64Array;
}

export function boundCosts(model: Sequential): BoundCosts {
  const n = model.layers.length;
  return { forward: new Float64Array(n), backward: new Float64Array(n) };
}

/** Unstable neurons per back-substitution batch (two rows each): bounds the rows' memory. */
const BATCH = 64;

/**
 * boxes[i] bounds the input of layer i (boxes[0] = `input`) for i = 0 … upTo. Under 'crown' the pre-activation
 * box of every activation (relu, leaky relu, sigmoid, tanh, clip) is intersected with its CROWN bounds (both
 * sound, so the intersection is) before the layers after it are propagated.
 */
export function layerInputBoxes(
  model: Sequential,
  input: Box,
  method: BoundMethod,
  upTo = model.layers.length,
  costs?: BoundCosts,
): Box[] {
  const boxes: Box[] = [input];
  let relaxed = false; // a nonlinearity before: only then can back-substitution beat the box
  for (let i = 0; i < upTo; i++) {
    const layer = model.layers[i];
    const t0 = costs ? performance.now() : 0;
    const box = layerBox(layer, boxes[i], model.params, i);
    if (costs) costs.forward[i] += performance.now() - t0;
    boxes.push(box);
    const next = model.layers[i + 1];
    const loose = next && method === 'crown' && relaxed ? looseEntries(next) : null;
    if (loose) tighten(model, boxes, i + 1, costs?.backward, loose);
    if (NONLINEAR.has(layer.type)) relaxed = true;
  }
  return boxes;
}

/** Layers whose relaxation loses something: after one, back-substitution can beat the interval box. */
const NONLINEAR = new Set(['relu', 'leaky-relu', 'sigmoid', 'tanh', 'clip', 'maxpool2d']);

/**
 * Which entries of a layer's input box CROWN tightens, by the layer: relu and leaky relu the unstable ones
 * (l < 0 < u: elsewhere they are exact), clip those straddling a bound, sigmoid and tanh every one (their
 * relaxation depends on both ends everywhere); null for a layer that does not relax its input.
 */
function looseEntries(spec: LayerSpec): ((l: number, u: number) => boolean) | null {
  switch (spec.type) {
    case 'relu':
    case 'leaky-relu':
      return (l, u) => l < 0 && u > 0;
    case 'clip': {
      const m = spec.min ?? -Infinity,
        M = spec.max ?? Infinity;
      return (l, u) => (l < m && u > m) || (l < M && u > M);
    }
    case 'sigmoid':
    case 'tanh':
      return () => true;
    default:
      return null;
  }
}

/** Replaces the bounds of boxes[at]'s entries that `loose` picks by the tighter of theirs and CROWN's. */
function tighten(
  model: Sequential,
  boxes: Box[],
  at: number,
  costs: Float64Array | undefined,
  loose: (l: number, u: number) => boolean,
) {
  const box = boxes[at];
  const unstable: number[] = [];
  for (let i = 0; i < box.lo.length; i++) if (loose(box.lo[i], box.hi[i])) unstable.push(i);
  const lo = Float64Array.from(box.lo),
    hi = Float64Array.from(box.hi);
  for (let s = 0; s < unstable.length; s += BATCH) {
    const part = unstable.slice(s, s + BATCH);
    const r = rows(2 * part.length, box.lo.length);
    part.forEach((n, j) => {
      r.a[2 * j * r.size + n] = 1; // lower bound of z_n
      r.a[(2 * j + 1) * r.size + n] = -1; // lower bound of −z_n: minus the upper bound of z_n
    });
    const bound = backSubstitute(model, boxes, at, r, costs);
    part.forEach((n, j) => {
      lo[n] = Math.max(lo[n], bound[2 * j]);
      hi[n] = Math.min(hi[n], -bound[2 * j + 1]);
    });
  }
  boxes[at] = { shape: box.shape, lo, hi };
}

/**
 * Bounds of the model's outputs over the input box by the method: IBP's box, or (crown-ibp, crown) each output's
 * back-substituted bounds intersected with it.
 */
export function outputBounds(model: Sequential, input: Box, method: BoundMethod): Box {
  const boxes = layerInputBoxes(model, input, method);
  if (method === 'ibp') return boxes[boxes.length - 1];
  const L = model.layers.length;
  tighten(model, boxes, L, undefined, () => true);
  return boxes[L];
}

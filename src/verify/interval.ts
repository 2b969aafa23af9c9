// Interval bound propagation (IBP): sound elementwise bounds of every layer's output over a box of inputs, in
// float64, each widened by the worst rounding error of the float32 forward pass, so that the logits the model
// actually computes for any input in the box lie inside (docs/verify.md).
import { layerOutputShape, virtualWeight, type LayerSpec, type Sequential } from '../nn/index.ts';
import type { Tensor } from '../tensor/index.ts';
import { elementwiseBox } from './activations.ts';
import { convTaps } from './conv-taps.ts';

export type Params = ReadonlyMap<string, Tensor>;

/** Bounds of one example's activations: lo ≤ value ≤ hi elementwise, shape without the batch dimension. */
export interface Box {
  shape: number[];
  lo: Float64Array;
  hi: Float64Array;
}

/** Unit roundoff of float32 (round to nearest). */
const U32 = 2 ** -24;
/**
 * γ_n = n·u / (1 − n·u): a float32 dot product of n terms, summed in any order, plus a bias, differs from the
 * exact value by at most γ_{n+1} · (Σ|wᵢ||xᵢ| + |b|) (Higham, Accuracy and Stability, §3.1). Slightly
 * enlarged, since γ itself and the float64 sums that use it round too.
 */
export function gamma(n: number): number {
  return ((n * U32) / (1 - n * U32)) * (1 + 1e-6);
}

/** The box of an L∞ ball of radius eps around x, clipped to [min, max], rounded outward. */
export function inputBox(
  x: ArrayLike<number>,
  shape: readonly number[],
  eps: number,
  range: readonly [number, number] = [0, 1],
): Box {
  const lo = new Float64Array(x.length),
    hi = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    // x is float32: x ± eps in float64 is exact for a float32 eps and within 1e-17 of it otherwise.
    lo[i] = Math.max(range[0], Math.min(range[1], x[i] - eps));
    hi[i] = Math.max(range[0], Math.min(range[1], x[i] + eps));
  }
  return { shape: [...shape], lo, hi };
}

// Float64 copies of a layer's weights, made once per weight tensor (tensors are values: an update replaces them).
const copies = new WeakMap<Tensor, { bias: Tensor; w: Float64Array; b: Float64Array }>();

/** A layer's weight and bias as float64 arrays (hashed layers: their virtual weight, exact copies of real ones). */
export function layerWeights(spec: LayerSpec, params: Params) {
  if (
    spec.type !== 'dense' &&
    spec.type !== 'conv2d' &&
    spec.type !== 'hashed-dense' &&
    spec.type !== 'hashed-conv2d'
  )
    throw new Error(`verify: layer ${spec.type} has no weights`);
  const w = params.get(spec.weight),
    b = params.get(spec.bias);
  if (!w || !b) throw new Error(`verify: missing parameter tensor of layer ${spec.type}`);
  const hit = copies.get(w);
  if (hit && hit.bias === b) return hit;
  const full =
    spec.type === 'hashed-dense' || spec.type === 'hashed-conv2d'
      ? virtualWeight(spec, w).data
      : w.data;
  const copy = { bias: b, w: Float64Array.from(full), b: Float64Array.from(b.data) };
  copies.set(w, copy);
  return copy;
}

/** Centre, half-width and largest magnitude of every element of a box. */
function split(box: Box) {
  const n = box.lo.length;
  const mid = new Float64Array(n),
    rad = new Float64Array(n),
    top = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    mid[i] = (box.lo[i] + box.hi[i]) / 2;
    rad[i] = (box.hi[i] - box.lo[i]) / 2;
    top[i] = Math.max(Math.abs(box.lo[i]), Math.abs(box.hi[i]));
  }
  return { mid, rad, top };
}

/** Widens [c − r, c + r] by the float32 forward's error bound and the float64 rounding of c and r. */
function widened(c: number, r: number, forwardError: number): [number, number] {
  const slack = forwardError + 1e-12 * (Math.abs(c) + r);
  return [c - r - slack, c + r + slack];
}

function dense(
  box: Box,
  spec: Extract<LayerSpec, { inDim: number }>,
  w: Float64Array,
  b: Float64Array,
): Box {
  const { inDim, outDim } = spec;
  if (box.lo.length !== inDim)
    throw new Error(`verify: ${spec.type} expects ${inDim} inputs, got ${box.lo.length}`);
  const lo = new Float64Array(outDim),
    hi = new Float64Array(outDim);
  const g = gamma(inDim + 1);
  const { mid, rad, top } = split(box);
  for (let o = 0; o < outDim; o++) {
    let c = b[o],
      r = 0,
      mag = Math.abs(b[o]);
    for (let i = 0, row = o * inDim; i < inDim; i++) {
      const wi = w[row + i],
        a = Math.abs(wi);
      c += wi * mid[i];
      r += a * rad[i];
      mag += a * top[i];
    }
    [lo[o], hi[o]] = widened(c, r, g * mag);
  }
  return { shape: [outDim], lo, hi };
}

function conv(
  box: Box,
  spec: Extract<LayerSpec, { kernelSize: number; inChannels: number }>,
  w: Float64Array,
  b: Float64Array,
  out: number[],
): Box {
  const [ic] = box.shape,
    [oc, oh, ow] = out;
  const k = spec.kernelSize,
    filter = ic * k * k;
  const lo = new Float64Array(oc * oh * ow),
    hi = new Float64Array(oc * oh * ow);
  const g = gamma(filter + 1);
  const { mid, rad, top } = split(box);
  const taps = convTaps(spec, box.shape, out);
  for (let o = 0; o < oc; o++)
    for (let q = 0; q < oh * ow; q++) {
      let c = b[o],
        r = 0,
        mag = Math.abs(b[o]);
      for (let t = taps.start[q]; t < taps.start[q + 1]; t++) {
        const at = taps.input[t],
          wi = w[o * filter + taps.weight[t]],
          a = Math.abs(wi);
        c += wi * mid[at];
        r += a * rad[at];
        mag += a * top[at];
      }
      [lo[o * oh * ow + q], hi[o * oh * ow + q]] = widened(c, r, g * mag);
    }
  return { shape: out, lo, hi };
}

/**
 * The input positions of every pooling window: ks² per output position, output by output (channel, row,
 * column), each window row by row.
 */
export function poolWindows(
  spec: Extract<LayerSpec, { type: 'maxpool2d' | 'avgpool2d' }>,
  inShape: number[],
  out: number[],
): Int32Array {
  const [, ih, iw] = inShape,
    [ch, oh, ow] = out;
  const { kernelSize: ks, stride: s } = spec;
  const at = new Int32Array(ch * oh * ow * ks * ks);
  let m = 0;
  for (let c = 0; c < ch; c++)
    for (let y = 0; y < oh; y++)
      for (let x = 0; x < ow; x++)
        for (let ky = 0; ky < ks; ky++)
          for (let kx = 0; kx < ks; kx++) at[m++] = (c * ih + y * s + ky) * iw + x * s + kx;
  return at;
}

function pool(
  box: Box,
  spec: Extract<LayerSpec, { type: 'maxpool2d' | 'avgpool2d' }>,
  out: number[],
): Box {
  const windows = poolWindows(spec, box.shape, out),
    area = spec.kernelSize ** 2,
    size = windows.length / area;
  const lo = new Float64Array(size),
    hi = new Float64Array(size);
  // Max pooling is monotone and exact in float32; average pooling is a positive linear map (its sum of k² terms
  // rounds, so it is widened like a dot product with weights 1/k²).
  const g = gamma(area + 1);
  for (let i = 0; i < size; i++) {
    let l = spec.type === 'maxpool2d' ? -Infinity : 0,
      h = l,
      mag = 0;
    for (let m = i * area; m < (i + 1) * area; m++) {
      const at = windows[m];
      if (spec.type === 'maxpool2d') {
        l = Math.max(l, box.lo[at]);
        h = Math.max(h, box.hi[at]);
      } else {
        l += box.lo[at];
        h += box.hi[at];
        mag += Math.max(Math.abs(box.lo[at]), Math.abs(box.hi[at]));
      }
    }
    if (spec.type === 'maxpool2d') [lo[i], hi[i]] = [l, h];
    else {
      const slack = (g * mag) / area + 1e-12 * (Math.abs(l) + Math.abs(h));
      [lo[i], hi[i]] = [l / area - slack, h / area + slack];
    }
  }
  return { shape: out, lo, hi };
}

/** One layer's output box from its input box. */
export function layerBox(spec: LayerSpec, box: Box, params: Params, index = 0): Box {
  switch (spec.type) {
    case 'dense':
    case 'hashed-dense': {
      const { w, b } = layerWeights(spec, params);
      return dense(box, spec, w, b);
    }
    case 'conv2d':
    case 'hashed-conv2d': {
      const { w, b } = layerWeights(spec, params);
      return conv(box, spec, w, b, layerOutputShape(spec, box.shape, index));
    }
    case 'relu':
      return {
        shape: [...box.shape],
        lo: box.lo.map((v) => Math.max(v, 0)),
        hi: box.hi.map((v) => Math.max(v, 0)),
      };
    case 'maxpool2d':
    case 'avgpool2d':
      return pool(box, spec, layerOutputShape(spec, box.shape, index));
    case 'flatten':
      return { shape: [box.lo.length], lo: box.lo, hi: box.hi };
    case 'leaky-relu':
    case 'sigmoid':
    case 'tanh':
    case 'clip':
    case 'affine':
      // Their rules (and their float32 error model) live in activations.ts.
      layerOutputShape(spec, box.shape, index);
      return elementwiseBox(spec, box);
    default:
      // A layer without a bound rule is refused by name: never a certificate computed without it.
      throw new Error(
        `verify: layers[${index}] has type '${(spec as { type: string }).type}', which has no bound rule`,
      );
  }
}

/** The boxes after each of the model's first `upTo` layers (default all), starting from `input`. */
export function intervalBounds(model: Sequential, input: Box, upTo = model.layers.length): Box[] {
  const boxes: Box[] = [];
  let box = input;
  for (let i = 0; i < upTo; i++) {
    box = layerBox(model.layers[i], box, model.params, i);
    boxes.push(box);
  }
  return boxes;
}

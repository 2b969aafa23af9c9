// Linear bound back-substitution (CROWN, Zhang et al. 2018): lower bounds of K linear functions of one layer's
// activations over the input box, carried backward through linear relaxations (relu, max pooling, activations.ts)
// built from the intermediate boxes; every layer's float32 rounding enters as a bounded error.
import { type LayerSpec, type Sequential } from '../nn/index.ts';
import { relaxation, type Relaxation } from './activations.ts';
import { convTaps } from './conv-taps.ts';
import { gamma, layerWeights, poolWindows, type Box, type Params } from './interval.ts';

/** Unit roundoff of float64. */
const U64 = 2 ** -53;
/** γ_n of float64 arithmetic (the bound computation's own rounding), slightly enlarged like `gamma`. */
const gamma64 = (n: number) => ((n * U64) / (1 - n * U64)) * (1 + 1e-6);

/**
 * K linear functions Σᵢ a[k·size + i]·vᵢ + c[k] of one layer's activations v (size elements each), and
 * `mag[k]`, the magnitude of everything summed into c[k] so far (for the float64 rounding of that sum).
 */
export interface Rows {
  k: number;
  size: number;
  a: Float64Array;
  c: Float64Array;
  mag: Float64Array;
  /** How many terms were summed into each c so far. */
  terms: number;
}

export function rows(k: number, size: number): Rows {
  return {
    k,
    size,
    a: new Float64Array(k * size),
    c: new Float64Array(k),
    mag: new Float64Array(k),
    terms: 0,
  };
}

/** Rows over a layer's input that carry on `r`'s constants (the coefficients start at zero). */
function continued(r: Rows, size: number): Rows {
  return { ...rows(r.k, size), c: r.c, mag: r.mag, terms: r.terms };
}

const top = (box: Box, i: number) => Math.max(Math.abs(box.lo[i]), Math.abs(box.hi[i]));

/**
 * The worst rounding of each output of a linear layer over its input box: the float32 forward pass, plus the
 * float64 rounding of one back-substitution step through it (the same Σ|w|·|v| form, with γ of float64).
 */
function linearErrors(spec: LayerSpec, w: Float64Array, b: Float64Array, box: Box, out: number[]) {
  const size = out.reduce((p, q) => p * q, 1);
  const err = new Float64Array(size);
  if (spec.type === 'dense' || spec.type === 'hashed-dense') {
    const n = spec.inDim,
      g = gamma(n + 1) + gamma64(n + 1);
    for (let o = 0; o < spec.outDim; o++) {
      let m = Math.abs(b[o]);
      for (let i = 0; i < n; i++) m += Math.abs(w[o * n + i]) * top(box, i);
      err[o] = g * m;
    }
    return err;
  }
  if (spec.type !== 'conv2d' && spec.type !== 'hashed-conv2d') throw new Error('unreachable');
  const [ic] = box.shape,
    [oc, oh, ow] = out;
  const filter = ic * spec.kernelSize ** 2;
  const g = gamma(filter + 1) + gamma64(filter + 1);
  const taps = convTaps(spec, box.shape, out);
  for (let o = 0; o < oc; o++)
    for (let q = 0; q < oh * ow; q++) {
      let m = Math.abs(b[o]);
      for (let t = taps.start[q]; t < taps.start[q + 1]; t++)
        m += Math.abs(w[o * filter + taps.weight[t]]) * top(box, taps.input[t]);
      err[o * oh * ow + q] = g * m;
    }
  return err;
}

/** Adds each row's a·bias − |a|·err to its constant (the linear layer's bias and worst rounding). */
function addBias(r: Rows, bias: (i: number) => number, err: Float64Array) {
  for (let k = 0; k < r.k; k++) {
    let c = 0,
      m = 0;
    for (let i = 0, at = k * r.size; i < r.size; i++) {
      const v = r.a[at + i];
      if (v === 0) continue;
      const t = v * bias(i);
      c += t - Math.abs(v) * err[i];
      m += Math.abs(t) + Math.abs(v) * err[i];
    }
    r.c[k] += c;
    r.mag[k] += m;
  }
  r.terms += r.size;
}

function denseBack(r: Rows, w: Float64Array, inDim: number, outDim: number): Rows {
  const next = continued(r, inDim);
  for (let k = 0; k < r.k; k++) {
    const dst = k * inDim;
    for (let o = 0; o < outDim; o++) {
      const v = r.a[k * outDim + o];
      if (v === 0) continue;
      for (let i = 0, row = o * inDim; i < inDim; i++) next.a[dst + i] += v * w[row + i];
    }
  }
  return next;
}

function convBack(
  r: Rows,
  spec: Extract<LayerSpec, { kernelSize: number; inChannels: number }>,
  w: Float64Array,
  inShape: number[],
  out: number[],
): Rows {
  const [ic, ih, iw] = inShape,
    [oc, oh, ow] = out;
  const filter = ic * spec.kernelSize ** 2;
  const taps = convTaps(spec, inShape, out);
  const next = continued(r, ic * ih * iw);
  for (let k = 0; k < r.k; k++) {
    const src = k * r.size,
      dst = k * next.size;
    for (let o = 0; o < oc; o++)
      for (let q = 0; q < oh * ow; q++) {
        const v = r.a[src + o * oh * ow + q];
        if (v === 0) continue; // rows start sparse (one neuron, or a margin): skip what cannot contribute
        for (let t = taps.start[q]; t < taps.start[q + 1]; t++)
          next.a[dst + taps.input[t]] += v * w[o * filter + taps.weight[t]];
      }
  }
  return next;
}

/**
 * Relu over its pre-activation box [l, u]: exact where stable; where l < 0 < u a positive coefficient takes the
 * lower line α·z (α = 1 when u > −l, else 0, CROWN's adaptive choice) and a negative one the upper chord
 * s·(z − l), s = u/(u − l) rounded up so the chord stays above relu on [l, u].
 */
function reluBack(r: Rows, pre: Box): Rows {
  const n = r.size;
  for (let k = 0; k < r.k; k++) {
    let c = 0,
      m = 0;
    for (let i = 0, at = k * n; i < n; i++) {
      const v = r.a[at + i];
      if (v === 0) continue;
      const l = pre.lo[i],
        u = pre.hi[i];
      if (l >= 0) continue;
      if (u <= 0) {
        r.a[at + i] = 0;
        continue;
      }
      if (v >= 0) {
        r.a[at + i] = u > -l ? v : 0;
      } else {
        const slope = (u / (u - l)) * (1 + 4 * U64);
        const a = v * slope;
        r.a[at + i] = a;
        c -= a * l; // a < 0, l < 0: the chord's intercept −s·l times v
        m += Math.abs(a * l) + Math.abs(a) * Math.max(-l, u); // and the product's rounding, |a|·max|z|
      }
    }
    r.c[k] += c;
    r.mag[k] += m;
  }
  r.terms += n;
  return r;
}

/**
 * An elementwise layer through its relaxation (activations.ts): a coefficient v ≥ 0 takes the lower line,
 * v < 0 the upper one, so v·y ≥ v·(slope·x + intercept) − |v|·err either way. Rows stay over the same size.
 */
function elementwiseBack(r: Rows, relax: Relaxation, pre: Box): Rows {
  const n = r.size;
  const { exact, loSlope, loIntercept, loErr, upSlope, upIntercept, upErr } = relax;
  for (let k = 0; k < r.k; k++) {
    let c = 0,
      m = 0;
    for (let i = 0, at = k * n; i < n; i++) {
      const v = r.a[at + i];
      if (v === 0 || exact[i]) continue;
      const up = v < 0,
        err = up ? upErr[i] : loErr[i];
      const a = v * (up ? upSlope[i] : loSlope[i]),
        t = v * (up ? upIntercept[i] : loIntercept[i]);
      r.a[at + i] = a;
      c += t - Math.abs(v) * err;
      // The terms summed into c, and the rounding of the product v·slope over the box: |a|·max|x|.
      m += Math.abs(t) + Math.abs(v) * err + Math.abs(a) * top(pre, i);
    }
    r.c[k] += c;
    r.mag[k] += m;
  }
  r.terms += n;
  return r;
}

/**
 * Max pooling over its input box: a window whose largest lower bound is at least every other member's upper
 * bound is that member, exactly; otherwise a positive coefficient takes max ≥ x_j* (j* the largest lower bound)
 * and a negative one max ≤ the largest upper bound.
 */
function maxPoolBack(r: Rows, windows: Int32Array, box: Box): Rows {
  const area = windows.length / r.size;
  const next = continued(r, box.lo.length);
  next.terms += r.size;
  for (let o = 0; o < r.size; o++) {
    let best = -1,
      highest = -Infinity;
    for (let m = o * area; m < (o + 1) * area; m++) {
      const at = windows[m];
      if (best < 0 || box.lo[at] > box.lo[best]) best = at;
      highest = Math.max(highest, box.hi[at]);
    }
    let rival = -Infinity;
    for (let m = o * area; m < (o + 1) * area; m++)
      if (windows[m] !== best) rival = Math.max(rival, box.hi[windows[m]]);
    const exact = box.lo[best] >= rival;
    for (let k = 0; k < r.k; k++) {
      const v = r.a[k * r.size + o];
      if (v === 0) continue;
      if (exact || v >= 0) {
        next.a[k * next.size + best] += v;
        next.mag[k] += Math.abs(v) * top(box, best);
      } else {
        next.c[k] += v * highest;
        next.mag[k] += Math.abs(v * highest);
      }
    }
  }
  return next;
}

/** Average pooling: linear, with weights 1/k² over each window. */
function avgPoolBack(r: Rows, windows: Int32Array, box: Box): Rows {
  const area = windows.length / r.size,
    g = gamma(area + 1) + gamma64(area + 1);
  // Its float32 sum of k² terms (then the division) rounds like a dot product with weights 1/k².
  const err = new Float64Array(r.size);
  for (let o = 0; o < r.size; o++) {
    let m = 0;
    for (let j = o * area; j < (o + 1) * area; j++) m += top(box, windows[j]);
    err[o] = (g * m) / area;
  }
  addBias(r, () => 0, err);
  const next = continued(r, box.lo.length);
  for (let k = 0; k < r.k; k++)
    for (let o = 0; o < r.size; o++) {
      const v = r.a[k * r.size + o] / area;
      if (v === 0) continue;
      for (let j = o * area; j < (o + 1) * area; j++) next.a[k * next.size + windows[j]] += v;
    }
  return next;
}

/** One layer backward: rows over its output (shape `out`) become rows over its input (box `box`). */
export function layerBack(
  spec: LayerSpec,
  r: Rows,
  box: Box,
  out: number[],
  params: Params,
  index: number,
): Rows {
  switch (spec.type) {
    case 'dense':
    case 'hashed-dense': {
      const { w, b } = layerWeights(spec, params);
      addBias(r, (o) => b[o], linearErrors(spec, w, b, box, out));
      return denseBack(r, w, spec.inDim, spec.outDim);
    }
    case 'conv2d':
    case 'hashed-conv2d': {
      const { w, b } = layerWeights(spec, params);
      const plane = out[1] * out[2];
      addBias(r, (o) => b[Math.floor(o / plane)], linearErrors(spec, w, b, box, out));
      return convBack(r, spec, w, box.shape, out);
    }
    case 'relu':
      return reluBack(r, box);
    case 'maxpool2d':
    case 'avgpool2d': {
      // Each window's input positions (ks² per output), shared by both rules.
      const windows = poolWindows(spec, box.shape, out);
      return spec.type === 'maxpool2d'
        ? maxPoolBack(r, windows, box)
        : avgPoolBack(r, windows, box);
    }
    case 'flatten':
      return r;
    case 'leaky-relu':
    case 'sigmoid':
    case 'tanh':
    case 'clip':
    case 'affine':
      return elementwiseBack(r, relaxation(spec, box), box);
    default:
      throw new Error(
        `verify: layers[${index}] has type '${(spec as { type: string }).type}', which has no bound rule`,
      );
  }
}

/**
 * Lower bounds of the rows, functions of the input of layer `from`, over the model's input box: back through
 * layers from − 1 … 0, where boxes[i] bounds the input of layer i (boxes[0] the input box). `costs[i]` gains
 * the milliseconds spent in layer i.
 */
export function backSubstitute(
  model: Sequential,
  boxes: readonly Box[],
  from: number,
  start: Rows,
  costs?: Float64Array,
): Float64Array {
  let r = start;
  for (let i = from - 1; i >= 0; i--) {
    const t0 = costs ? performance.now() : 0;
    r = layerBack(model.layers[i], r, boxes[i], boxes[i + 1].shape, model.params, i);
    if (costs) costs[i] += performance.now() - t0;
  }
  const input = boxes[0];
  const out = new Float64Array(r.k);
  for (let k = 0; k < r.k; k++) {
    let c = r.c[k],
      m = r.mag[k];
    for (let i = 0, at = k * r.size; i < r.size; i++) {
      const v = r.a[at + i];
      if (v === 0) continue;
      const t = v >= 0 ? v * input.lo[i] : v * input.hi[i];
      c += t;
      m += Math.abs(v) * top(input, i);
    }
    // Every sum into c rounded in float64: at most γ(terms)·Σ|terms| (Higham §3.1), plus a small floor.
    out[k] = c - gamma64(r.terms + r.size + 2) * m - 1e-300;
  }
  return out;
}

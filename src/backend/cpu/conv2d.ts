// Reference 2-D convolution (NCHW, square kernel, stride, zero padding) and its two backward kernels,
// written as direct loops: the oracle for faster backends, not a fast path.
import { type Conv2dParams, type TensorData, alloc, shapeStr, Tensor } from '../../tensor/index.ts';
import { resultDType } from './elementwise.ts';

/** Positions of a window sweep, ⌊(inSize + 2·padding − kernelSize) / stride⌋ + 1; under 1: it does not fit. */
export function sweepSize(
  inSize: number,
  kernelSize: number,
  stride: number,
  padding: number,
): number {
  return Math.floor((inSize + 2 * padding - kernelSize) / stride) + 1;
}

const misfit = (inSize: number, kernelSize: number, stride: number, padding: number) =>
  `conv/pool: window ${kernelSize} (stride ${stride}, padding ${padding}) does not fit input size ${inSize}`;

/** Output spatial size of a convolution or pooling window sweep. */
export function outSize(
  inSize: number,
  kernelSize: number,
  stride: number,
  padding: number,
): number {
  const o = sweepSize(inSize, kernelSize, stride, padding);
  if (o < 1) throw new Error(misfit(inSize, kernelSize, stride, padding));
  return o;
}

/** A square-kernel NCHW convolution: n images of c planes h×w in, oc planes oh×ow out; kernel k, stride s, pad p. */
export interface Conv2dGeometry {
  n: number;
  c: number;
  h: number;
  w: number;
  oc: number;
  k: number;
  oh: number;
  ow: number;
  s: number;
  p: number;
}

/**
 * The geometry of input xShape under weight wShape, or the error saying why they do not fit: the reference
 * kernels throw it, the WASM kernels fall back to the reference (which then throws it).
 */
export function conv2dGeometry(
  xShape: readonly number[],
  wShape: readonly number[],
  { stride, padding }: Conv2dParams,
): Conv2dGeometry | string {
  if (xShape.length !== 4 || wShape.length !== 4)
    return `conv2d: input ${shapeStr(xShape)} and weight ${shapeStr(wShape)} must be 4-D`;
  const [n, c, h, w] = xShape;
  const [oc, ic, k, k2] = wShape;
  if (ic !== c)
    return `conv2d: weight ${shapeStr(wShape)} expects ${ic} input channels, input ${shapeStr(xShape)} has ${c}`;
  if (k !== k2) return `conv2d: kernel must be square, got ${shapeStr(wShape)}`;
  if (!(stride >= 1) || !(padding >= 0))
    return `conv2d: invalid stride ${stride} or padding ${padding}`;
  const oh = sweepSize(h, k, stride, padding),
    ow = sweepSize(w, k, stride, padding);
  if (oh < 1 || ow < 1) return misfit(oh < 1 ? h : w, k, stride, padding);
  return { n, c, h, w, oc, k, oh, ow, s: stride, p: padding };
}

function geometry(
  xShape: readonly number[],
  wShape: readonly number[],
  params: Conv2dParams,
): Conv2dGeometry {
  const g = conv2dGeometry(xShape, wShape, params);
  if (typeof g === 'string') throw new Error(g);
  return g;
}

/** First output row (or column) whose tap at kernel offset kk lands inside the input: o·s − p + kk ≥ 0. */
function firstValid(kk: number, s: number, p: number): number {
  return Math.max(0, Math.ceil((p - kk) / s));
}

/** One past the last output row (or column) whose tap stays inside the input: o·s − p + kk < inSize. */
function endValid(kk: number, s: number, p: number, inSize: number, outSize: number): number {
  return Math.min(outSize, Math.floor((inSize - 1 + p - kk) / s) + 1);
}

/**
 * The loop nest the three kernels share: (batch, out channel, in channel, ky, kx) outside, each tap visited
 * with the output rows [y0, y1) and columns [x0, x1) whose input lands inside the image (zero padding
 * contributes nothing, so those taps are skipped); the kernel walks that output window inside, so each weight
 * is read once per plane and the innermost loop walks memory contiguously.
 * NOTE: no array destructuring inside these loops: in JavaScriptCore it made them 5x slower.
 */
function forEachTap(
  g: Conv2dGeometry,
  visit: (
    b: number,
    o: number,
    ci: number,
    ky: number,
    kx: number,
    y0: number,
    y1: number,
    x0: number,
    x1: number,
  ) => void,
): void {
  const { n, c, h, w, oc, k, oh, ow, s, p } = g;
  for (let b = 0; b < n; b++)
    for (let o = 0; o < oc; o++)
      for (let ci = 0; ci < c; ci++)
        for (let ky = 0; ky < k; ky++) {
          const y0 = firstValid(ky, s, p),
            y1 = endValid(ky, s, p, h, oh);
          for (let kx = 0; kx < k; kx++)
            visit(b, o, ci, ky, kx, y0, y1, firstValid(kx, s, p), endValid(kx, s, p, w, ow));
        }
}

/**
 * The weight taps conv2d and conv2d-grad-input share: forward gathers out[y] += w·src[x] over each tap's rows,
 * the input gradient scatters out[x] += w·src[y] (the transposed convolution). The direction is chosen per row,
 * outside the innermost loop.
 */
function weightTaps(
  g: Conv2dGeometry,
  W: TensorData,
  src: TensorData,
  out: TensorData,
  toInput: boolean,
): void {
  const { c, h, w, oc, k, oh, ow, s, p } = g;
  forEachTap(g, (b, o, ci, ky, kx, y0, y1, x0, x1) => {
    const wv = W[((o * c + ci) * k + ky) * k + kx];
    for (let oy = y0; oy < y1; oy++) {
      const yRow = ((b * oc + o) * oh + oy) * ow;
      const xRow = ((b * c + ci) * h + oy * s - p + ky) * w - p + kx;
      if (toInput) for (let ox = x0; ox < x1; ox++) out[xRow + ox * s] += wv * src[yRow + ox];
      else for (let ox = x0; ox < x1; ox++) out[yRow + ox] += wv * src[xRow + ox * s];
    }
  });
}

/** y[b,o,oy,ox] = Σ_{ci,ky,kx} x[b,ci,oy·s−p+ky,ox·s−p+kx] · w[o,ci,ky,kx] (no bias: see bias-add). */
export function conv2d(x: Tensor, wt: Tensor, params: Conv2dParams): Tensor {
  const g = geometry(x.shape, wt.shape, params);
  const { n, oc, oh, ow } = g;
  const Y = alloc(resultDType(x, wt), n * oc * oh * ow);
  weightTaps(g, wt.data, x.data, Y, false);
  return new Tensor([n, oc, oh, ow], Y);
}

/** dx = Σ over taps of dy · w (the transposed convolution, in scatter form). */
export function conv2dGradInput(
  dy: Tensor,
  wt: Tensor,
  xShape: readonly number[],
  params: Conv2dParams,
): Tensor {
  const g = geometry(xShape, wt.shape, params);
  checkDy(dy, g);
  const DX = alloc(resultDType(dy, wt), g.n * g.c * g.h * g.w);
  weightTaps(g, wt.data, dy.data, DX, true);
  return new Tensor(xShape, DX);
}

/** dw = Σ over taps of dy · x. */
export function conv2dGradWeight(
  x: Tensor,
  dy: Tensor,
  wShape: readonly number[],
  params: Conv2dParams,
): Tensor {
  const g = geometry(x.shape, wShape, params);
  checkDy(dy, g);
  const { c, h, w, oc, k, oh, ow, s, p } = g;
  const DW = alloc(resultDType(x, dy), oc * c * k * k);
  const D = dy.data,
    X = x.data;
  forEachTap(g, (b, o, ci, ky, kx, y0, y1, x0, x1) => {
    let acc = 0;
    for (let oy = y0; oy < y1; oy++) {
      const yRow = ((b * oc + o) * oh + oy) * ow;
      const xRow = ((b * c + ci) * h + oy * s - p + ky) * w - p + kx;
      for (let ox = x0; ox < x1; ox++) acc += D[yRow + ox] * X[xRow + ox * s];
    }
    DW[((o * c + ci) * k + ky) * k + kx] += acc;
  });
  return new Tensor(wShape, DW);
}

function checkDy(dy: Tensor, g: Conv2dGeometry): void {
  const want = [g.n, g.oc, g.oh, g.ow];
  if (dy.rank !== 4 || dy.shape.some((d, i) => d !== want[i])) {
    throw new Error(
      `conv2d-grad: gradient ${shapeStr(dy.shape)} does not match output ${shapeStr(want)}`,
    );
  }
}

// Reference 2-D convolution (NCHW, square kernel, stride, zero padding) and its two backward kernels,
// written as direct loops: the oracle for faster backends, not a fast path.
import { type Conv2dParams, alloc, shapeStr, Tensor } from '../../tensor/index.ts';
import { resultDType } from './elementwise.ts';

/** Output spatial size of a convolution or pooling window sweep. */
export function outSize(
  inSize: number,
  kernelSize: number,
  stride: number,
  padding: number,
): number {
  const o = Math.floor((inSize + 2 * padding - kernelSize) / stride) + 1;
  if (o < 1)
    throw new Error(
      `conv/pool: window ${kernelSize} (stride ${stride}, padding ${padding}) does not fit input size ${inSize}`,
    );
  return o;
}

interface Geometry {
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

function geometry(
  xShape: readonly number[],
  wShape: readonly number[],
  { stride, padding }: Conv2dParams,
): Geometry {
  if (xShape.length !== 4 || wShape.length !== 4)
    throw new Error(`conv2d: input ${shapeStr(xShape)} and weight ${shapeStr(wShape)} must be 4-D`);
  const [n, c, h, w] = xShape;
  const [oc, ic, k, k2] = wShape;
  if (ic !== c)
    throw new Error(
      `conv2d: weight ${shapeStr(wShape)} expects ${ic} input channels, input ${shapeStr(xShape)} has ${c}`,
    );
  if (k !== k2) throw new Error(`conv2d: kernel must be square, got ${shapeStr(wShape)}`);
  if (!(stride >= 1) || !(padding >= 0))
    throw new Error(`conv2d: invalid stride ${stride} or padding ${padding}`);
  return {
    n,
    c,
    h,
    w,
    oc,
    k,
    oh: outSize(h, k, stride, padding),
    ow: outSize(w, k, stride, padding),
    s: stride,
    p: padding,
  };
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
  g: Geometry,
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

/** y[b,o,oy,ox] = Σ_{ci,ky,kx} x[b,ci,oy·s−p+ky,ox·s−p+kx] · w[o,ci,ky,kx] (no bias: see bias-add). */
export function conv2d(x: Tensor, wt: Tensor, params: Conv2dParams): Tensor {
  const g = geometry(x.shape, wt.shape, params);
  const { n, c, h, w, oc, k, oh, ow, s, p } = g;
  const Y = alloc(resultDType(x, wt), n * oc * oh * ow);
  const X = x.data,
    W = wt.data;
  forEachTap(g, (b, o, ci, ky, kx, y0, y1, x0, x1) => {
    const wv = W[((o * c + ci) * k + ky) * k + kx];
    for (let oy = y0; oy < y1; oy++) {
      const yRow = ((b * oc + o) * oh + oy) * ow;
      const xRow = ((b * c + ci) * h + oy * s - p + ky) * w - p + kx;
      for (let ox = x0; ox < x1; ox++) Y[yRow + ox] += wv * X[xRow + ox * s];
    }
  });
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
  const { n, c, h, w, oc, k, oh, ow, s, p } = g;
  const DX = alloc(resultDType(dy, wt), n * c * h * w);
  const D = dy.data,
    W = wt.data;
  forEachTap(g, (b, o, ci, ky, kx, y0, y1, x0, x1) => {
    const wv = W[((o * c + ci) * k + ky) * k + kx];
    for (let oy = y0; oy < y1; oy++) {
      const yRow = ((b * oc + o) * oh + oy) * ow;
      const xRow = ((b * c + ci) * h + oy * s - p + ky) * w - p + kx;
      for (let ox = x0; ox < x1; ox++) DX[xRow + ox * s] += wv * D[yRow + ox];
    }
  });
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

function checkDy(dy: Tensor, g: Geometry): void {
  const want = [g.n, g.oc, g.oh, g.ow];
  if (dy.rank !== 4 || dy.shape.some((d, i) => d !== want[i])) {
    throw new Error(
      `conv2d-grad: gradient ${shapeStr(dy.shape)} does not match output ${shapeStr(want)}`,
    );
  }
}

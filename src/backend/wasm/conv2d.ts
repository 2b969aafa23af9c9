// Convolution forward and both backward passes as im2col + tiled GEMM over chunks of images: one GEMM per
// chunk (not per image) so the kernel sees wide matrices even when channels are few (LeNet's conv1 has 6).
import { type Conv2dParams, Tensor } from '../../tensor/index.ts';
import { referenceBackend } from '../cpu/index.ts';
import { isF32 } from './f32.ts';
import { ceil4, ceil8, packRows, sgemmPacked } from './gemm.ts';
import { copyOut, scratch, type Kernels } from './module.ts';

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

/** Shapes of a square-kernel NCHW convolution, or null when they do not fit (the reference names the error). */
function geometry(
  xShape: readonly number[],
  wShape: readonly number[],
  { stride, padding }: Conv2dParams,
): Geometry | null {
  if (
    xShape.length !== 4 ||
    wShape.length !== 4 ||
    xShape[1] !== wShape[1] ||
    wShape[2] !== wShape[3]
  )
    return null;
  const [n, c, h, w] = xShape;
  const [oc, , k] = wShape;
  const oh = Math.floor((h + 2 * padding - k) / stride) + 1;
  const ow = Math.floor((w + 2 * padding - k) / stride) + 1;
  if (oh < 1 || ow < 1 || !(stride >= 1) || !(padding >= 0)) return null;
  return { n, c, h, w, oc, k, oh, ow, s: stride, p: padding };
}

/** im2col (mode 0) or col2im (mode 1) of images b0 .. b0+nb of the batch at byte offset px (see kernels/im2col.wat). */
function im2col(
  kernels: Kernels,
  mode: 0 | 1,
  px: number,
  b0: number,
  nb: number,
  g: Geometry,
  pcols: number,
  ld: number,
): void {
  kernels.im2col(
    mode,
    px + b0 * g.c * g.h * g.w * 4,
    pcols,
    nb,
    g.c,
    g.h,
    g.w,
    g.k,
    g.s,
    g.p,
    g.oh,
    g.ow,
    ld,
  );
}

/** Images per GEMM: about 2048 output pixels, so the column matrix stays in L2. */
function chunkOf(g: Geometry): number {
  return Math.max(1, Math.min(g.n, Math.floor(2048 / (g.oh * g.ow))));
}

/** y[b, oc] = W[oc, :] · cols_b: one GEMM W[ocp × ckk] · cols[ckk × np] per chunk. */
function conv2dColumns(x: Float32Array, wt: Float32Array, g: Geometry): Float32Array {
  const ckk = g.c * g.k * g.k,
    ohw = g.oh * g.ow,
    ocp = ceil4(g.oc);
  const chunk = chunkOf(g),
    np = ceil8(chunk * ohw);
  const {
    kernels,
    offsets: [px, pw, pc, py],
    views: [vx, vw, , vy],
  } = scratch([x.length, ocp * ckk, ckk * np, ocp * np]);
  vx.set(x);
  packRows(wt, g.oc, ckk, vw, ckk, ocp);
  const out = new Float32Array(g.n * g.oc * ohw);
  for (let b0 = 0; b0 < g.n; b0 += chunk) {
    const nb = Math.min(chunk, g.n - b0);
    im2col(kernels, 0, px, b0, nb, g, pc, np);
    sgemmPacked(kernels, pw, pc, py, ocp, np, ckk, false);
    for (let j = 0; j < nb; j++)
      for (let o = 0; o < g.oc; o++)
        out.set(vy.subarray(o * np + j * ohw, o * np + (j + 1) * ohw), ((b0 + j) * g.oc + o) * ohw);
  }
  return out;
}

/** dcols = Wᵀ[ckk × oc] · dy_chunk[oc × np], then col2im onto dx. */
function conv2dGradInputColumns(dy: Float32Array, wt: Float32Array, g: Geometry): Float32Array {
  const ckk = g.c * g.k * g.k,
    ohw = g.oh * g.ow,
    ckkp = ceil4(ckk);
  const chunk = chunkOf(g),
    np = ceil8(chunk * ohw);
  const {
    kernels,
    offsets: [pwt, pd, pc, pdx],
    views: [vwt, vd, , vdx],
  } = scratch([ckkp * g.oc, g.oc * np, ckkp * np, g.n * g.c * g.h * g.w]);
  for (let r = 0; r < ckk; r++) for (let o = 0; o < g.oc; o++) vwt[r * g.oc + o] = wt[o * ckk + r];
  vwt.fill(0, ckk * g.oc, ckkp * g.oc);
  vdx.fill(0);
  for (let b0 = 0; b0 < g.n; b0 += chunk) {
    const nb = Math.min(chunk, g.n - b0);
    for (let o = 0; o < g.oc; o++) {
      for (let j = 0; j < nb; j++)
        vd.set(
          dy.subarray(((b0 + j) * g.oc + o) * ohw, ((b0 + j) * g.oc + o + 1) * ohw),
          o * np + j * ohw,
        );
      vd.fill(0, o * np + nb * ohw, (o + 1) * np);
    }
    sgemmPacked(kernels, pwt, pd, pc, ckkp, np, g.oc, false);
    im2col(kernels, 1, pdx, b0, nb, g, pc, np);
  }
  return copyOut(vdx, vdx.length);
}

/**
 * dW = Σ_b dy_b · cols_bᵀ, computed transposed so the long axis (images × pixels) is the GEMM's k:
 * dWᵀ[ckk × oc] += cols[ckk × K] · dy_chunkᵀ[K × oc], accumulated over chunks.
 */
function conv2dGradWeightColumns(x: Float32Array, dy: Float32Array, g: Geometry): Float32Array {
  const ckk = g.c * g.k * g.k,
    ohw = g.oh * g.ow,
    ckkp = ceil4(ckk),
    ocp = ceil8(g.oc);
  const chunk = chunkOf(g),
    kk = chunk * ohw;
  const {
    kernels,
    offsets: [px, pc, pd, pw],
    views: [vx, vc, vd, vw],
  } = scratch([x.length, ckkp * kk, kk * ocp, ckkp * ocp]);
  vx.set(x);
  for (let b0 = 0; b0 < g.n; b0 += chunk) {
    const nb = Math.min(chunk, g.n - b0);
    const kb = nb * ohw; // the last chunk may be short: its GEMM uses k = kb with the same row strides
    im2col(kernels, 0, px, b0, nb, g, pc, kb);
    vc.fill(0, ckk * kb, ckkp * kb);
    for (let j = 0; j < nb; j++)
      for (let o = 0; o < g.oc; o++) {
        const src = ((b0 + j) * g.oc + o) * ohw;
        for (let q = 0; q < ohw; q++) vd[(j * ohw + q) * ocp + o] = dy[src + q];
      }
    if (ocp > g.oc) for (let q = 0; q < kb; q++) vd.fill(0, q * ocp + g.oc, (q + 1) * ocp);
    sgemmPacked(kernels, pc, pd, pw, ckkp, ocp, kb, b0 > 0);
  }
  const dw = new Float32Array(g.oc * ckk);
  for (let o = 0; o < g.oc; o++) for (let r = 0; r < ckk; r++) dw[o * ckk + r] = vw[r * ocp + o];
  return dw;
}

export function conv2d(x: Tensor, wt: Tensor, params: Conv2dParams): Tensor {
  const g = geometry(x.shape, wt.shape, params);
  if (!g || !isF32(x) || !isF32(wt)) return referenceBackend.conv2d(x, wt, params);
  return new Tensor(
    [g.n, g.oc, g.oh, g.ow],
    conv2dColumns(x.data as Float32Array, wt.data as Float32Array, g),
  );
}

export function conv2dGradInput(
  dy: Tensor,
  wt: Tensor,
  xShape: readonly number[],
  params: Conv2dParams,
): Tensor {
  const g = geometry(xShape, wt.shape, params);
  if (!g || !isF32(dy) || !isF32(wt) || dy.size !== g.n * g.oc * g.oh * g.ow)
    return referenceBackend.conv2dGradInput(dy, wt, xShape, params);
  return new Tensor(
    xShape,
    conv2dGradInputColumns(dy.data as Float32Array, wt.data as Float32Array, g),
  );
}

export function conv2dGradWeight(
  x: Tensor,
  dy: Tensor,
  wShape: readonly number[],
  params: Conv2dParams,
): Tensor {
  const g = geometry(x.shape, wShape, params);
  if (!g || g.n === 0 || !isF32(x) || !isF32(dy) || dy.size !== g.n * g.oc * g.oh * g.ow)
    return referenceBackend.conv2dGradWeight(x, dy, wShape, params);
  return new Tensor(
    wShape,
    conv2dGradWeightColumns(x.data as Float32Array, dy.data as Float32Array, g),
  );
}

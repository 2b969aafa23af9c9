// Convolution forward and both backward passes as im2col + tiled GEMM over chunks of images: one GEMM per
// chunk (not per image) so the kernel sees wide matrices even when channels are few (LeNet's conv1 has 6).
import { type Backend, type Conv2dParams, Tensor } from '../../tensor/index.ts';
import { conv2dGeometry, referenceBackend, type Conv2dGeometry as Geometry } from '../cpu/index.ts';
import { isF32 } from './f32.ts';
import { ceil4, ceil8, packRows, sgemmPacked } from './gemm.ts';
import { copyOut, scratch, scratchWith, type Kernels } from './module.ts';

/** Shapes of a square-kernel NCHW convolution, or null when they do not fit (the reference names the error). */
function geometry(
  xShape: readonly number[],
  wShape: readonly number[],
  params: Conv2dParams,
): Geometry | null {
  const g = conv2dGeometry(xShape, wShape, params);
  return typeof g === 'string' ? null : g;
}

/**
 * im2col (mode 0) or col2im (mode 1) of nb images at byte offset x, columns at byte offset cols with row
 * stride ld (see kernels/im2col.wat): for the single-op kernels here and the compiled chain (chain-run.ts).
 */
export function im2col(
  kernels: Kernels,
  mode: 0 | 1,
  x: number,
  cols: number,
  nb: number,
  g: Omit<Geometry, 'n' | 'oc'>,
  ld: number,
): void {
  kernels.im2col(mode, x, cols, nb, g.c, g.h, g.w, g.k, g.s, g.p, g.oh, g.ow, ld);
}

/** Byte offset of image b of an NCHW batch at byte offset px. */
const imageAt = (px: number, b: number, g: Geometry) => px + b * g.c * g.h * g.w * 4;

/**
 * The sizes every column pass works in: ckk column rows (c·k·k taps), ohw pixels per image, and chunk images
 * per GEMM (about 2048 output pixels, so the column matrix stays in L2).
 */
function columnSizes(g: Geometry): { ckk: number; ohw: number; chunk: number } {
  const ohw = g.oh * g.ow;
  return { ckk: g.c * g.k * g.k, ohw, chunk: Math.max(1, Math.min(g.n, Math.floor(2048 / ohw))) };
}

/** y[b, oc] = W[oc, :] · cols_b: one GEMM W[ocp × ckk] · cols[ckk × np] per chunk. */
function conv2dColumns(x: Float32Array, wt: Float32Array, g: Geometry): Float32Array {
  const { ckk, ohw, chunk } = columnSizes(g);
  const ocp = ceil4(g.oc),
    np = ceil8(chunk * ohw);
  const {
    kernels,
    offsets: [px, pw, pc, py],
    views: [, vw, , vy],
  } = scratchWith([x], [ocp * ckk, ckk * np, ocp * np]);
  packRows(wt, g.oc, ckk, vw, ckk, ocp);
  const out = new Float32Array(g.n * g.oc * ohw);
  for (let b0 = 0; b0 < g.n; b0 += chunk) {
    const nb = Math.min(chunk, g.n - b0);
    im2col(kernels, 0, imageAt(px, b0, g), pc, nb, g, np);
    sgemmPacked(kernels, pw, pc, py, ocp, np, ckk, false);
    for (let j = 0; j < nb; j++)
      for (let o = 0; o < g.oc; o++)
        out.set(vy.subarray(o * np + j * ohw, o * np + (j + 1) * ohw), ((b0 + j) * g.oc + o) * ohw);
  }
  return out;
}

/** dcols = Wᵀ[ckk × oc] · dy_chunk[oc × np], then col2im onto dx. */
function conv2dGradInputColumns(dy: Float32Array, wt: Float32Array, g: Geometry): Float32Array {
  const { ckk, ohw, chunk } = columnSizes(g);
  const ckkp = ceil4(ckk),
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
    im2col(kernels, 1, imageAt(pdx, b0, g), pc, nb, g, np);
  }
  return copyOut(vdx, vdx.length);
}

/**
 * dW = Σ_b dy_b · cols_bᵀ, computed transposed so the long axis (images × pixels) is the GEMM's k:
 * dWᵀ[ckk × oc] += cols[ckk × K] · dy_chunkᵀ[K × oc], accumulated over chunks.
 */
function conv2dGradWeightColumns(x: Float32Array, dy: Float32Array, g: Geometry): Float32Array {
  const { ckk, ohw, chunk } = columnSizes(g);
  const ckkp = ceil4(ckk),
    ocp = ceil8(g.oc),
    kk = chunk * ohw;
  const {
    kernels,
    offsets: [px, pc, pd, pw],
    views: [, vc, vd, vw],
  } = scratchWith([x], [ckkp * kk, kk * ocp, ckkp * ocp]);
  for (let b0 = 0; b0 < g.n; b0 += chunk) {
    const nb = Math.min(chunk, g.n - b0);
    const kb = nb * ohw; // the last chunk may be short: its GEMM uses k = kb with the same row strides
    im2col(kernels, 0, imageAt(px, b0, g), pc, nb, g, kb);
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

// The three entry points take the Backend interface's signatures (tensor/backend.ts) and fall back to the
// reference kernels for shapes that do not fit, f64 data, or a gradient of the wrong size.
export const conv2d: Backend['conv2d'] = (x, wt, params) => {
  const g = geometry(x.shape, wt.shape, params);
  if (!g || !isF32(x) || !isF32(wt)) return referenceBackend.conv2d(x, wt, params);
  return new Tensor([g.n, g.oc, g.oh, g.ow], conv2dColumns(x.data, wt.data, g));
};

export const conv2dGradInput: Backend['conv2dGradInput'] = (dy, wt, xShape, params) => {
  const g = geometry(xShape, wt.shape, params);
  if (!g || !isF32(dy) || !isF32(wt) || dy.size !== g.n * g.oc * g.oh * g.ow)
    return referenceBackend.conv2dGradInput(dy, wt, xShape, params);
  return new Tensor(xShape, conv2dGradInputColumns(dy.data, wt.data, g));
};

export const conv2dGradWeight: Backend['conv2dGradWeight'] = (x, dy, wShape, params) => {
  const g = geometry(x.shape, wShape, params);
  if (!g || g.n === 0 || !isF32(x) || !isF32(dy) || dy.size !== g.n * g.oc * g.oh * g.ow)
    return referenceBackend.conv2dGradWeight(x, dy, wShape, params);
  return new Tensor(wShape, conv2dGradWeightColumns(x.data, dy.data, g));
};

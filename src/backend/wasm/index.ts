// The fast CPU backend (first step of issue 4): matmul and the three convolution kernels on WebAssembly
// SIMD (convolutions as im2col + GEMM), every other primitive from the reference kernels. f32 only: f64
// tensors (gradient checks) take the reference path.
import type { Backend, Conv2dParams } from '../../tensor/backend.ts';
import { Tensor } from '../../tensor/tensor.ts';
import { referenceBackend } from '../cpu/index.ts';
import { scratch, wasmSimdAvailable } from './module.ts';

const f32 = (...ts: Tensor[]) => ts.every((t) => t.dtype === 'f32');

function transpose2d(src: ArrayLike<number>, rows: number, cols: number, out: Float32Array): void {
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
}

function matmul(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  if (!f32(a, b) || a.rank !== 2 || b.rank !== 2) return referenceBackend.matmul(a, b, transA, transB);
  const m = transA ? a.shape[1] : a.shape[0];
  const k = transA ? a.shape[0] : a.shape[1];
  const n = transB ? b.shape[0] : b.shape[1];
  if ((transB ? b.shape[1] : b.shape[0]) !== k) return referenceBackend.matmul(a, b, transA, transB); // reference names the error
  const { kernels, offsets: [pa, pb, pc], views: [va, vb, vc] } = scratch([m * k, k * n, m * n]);
  if (transA) transpose2d(a.data, k, m, va);
  else va.set(a.data);
  vb.set(b.data);
  // op(b) = bᵀ is exactly the nt kernel's layout; otherwise nn.
  if (transB) kernels.sgemm_nt(pa, pb, pc, m, n, k, 0);
  else kernels.sgemm_nn(pa, pb, pc, m, n, k, 0);
  return new Tensor([m, n], Float32Array.from(vc));
}

interface Geometry { n: number; c: number; h: number; w: number; oc: number; k: number; oh: number; ow: number; s: number; p: number }

function geometry(xShape: readonly number[], wShape: readonly number[], { stride, padding }: Conv2dParams): Geometry | null {
  if (xShape.length !== 4 || wShape.length !== 4 || xShape[1] !== wShape[1] || wShape[2] !== wShape[3]) return null;
  const [n, c, h, w] = xShape;
  const [oc, , k] = wShape;
  const oh = Math.floor((h + 2 * padding - k) / stride) + 1;
  const ow = Math.floor((w + 2 * padding - k) / stride) + 1;
  if (oh < 1 || ow < 1 || !(stride >= 1) || !(padding >= 0)) return null;
  return { n, c, h, w, oc, k, oh, ow, s: stride, p: padding };
}

/** cols[(ci·k + ky)·k + kx][oy·ow + ox] = x[b, ci, oy·s − p + ky, ox·s − p + kx] (0 in the padding). */
function im2col(x: ArrayLike<number>, b: number, g: Geometry, cols: Float32Array): void {
  const { c, h, w, k, oh, ow, s, p } = g;
  let r = 0;
  for (let ci = 0; ci < c; ci++)
    for (let ky = 0; ky < k; ky++)
      for (let kx = 0; kx < k; kx++, r++)
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * s - p + ky;
          const dst = (r * oh + oy) * ow;
          const src = ((b * c + ci) * h + iy) * w - p + kx;
          for (let ox = 0; ox < ow; ox++) {
            const ix = ox * s - p + kx;
            cols[dst + ox] = iy >= 0 && iy < h && ix >= 0 && ix < w ? x[src + ox * s] : 0;
          }
        }
}

/** The transpose of im2col: adds cols back onto dx[b] (overlapping windows accumulate). */
function col2im(cols: Float32Array, b: number, g: Geometry, dx: Float32Array): void {
  const { c, h, w, k, oh, ow, s, p } = g;
  let r = 0;
  for (let ci = 0; ci < c; ci++)
    for (let ky = 0; ky < k; ky++)
      for (let kx = 0; kx < k; kx++, r++)
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * s - p + ky;
          if (iy < 0 || iy >= h) continue;
          const src = (r * oh + oy) * ow;
          const dst = ((b * c + ci) * h + iy) * w - p + kx;
          for (let ox = 0; ox < ow; ox++) {
            const ix = ox * s - p + kx;
            if (ix >= 0 && ix < w) dx[dst + ox * s] += cols[src + ox];
          }
        }
}

function conv2d(x: Tensor, wt: Tensor, params: Conv2dParams): Tensor {
  const g = geometry(x.shape, wt.shape, params);
  if (!g || !f32(x, wt)) return referenceBackend.conv2d(x, wt, params);
  const ckk = g.c * g.k * g.k, ohw = g.oh * g.ow;
  const { kernels, offsets: [pw, pc, py], views: [vw, vc, vy] } = scratch([g.oc * ckk, ckk * ohw, g.oc * ohw]);
  vw.set(wt.data);
  const out = new Float32Array(g.n * g.oc * ohw);
  for (let b = 0; b < g.n; b++) {
    im2col(x.data, b, g, vc);
    kernels.sgemm_nn(pw, pc, py, g.oc, ohw, ckk, 0); // y_b[oc, ohw] = W[oc, ckk] · cols[ckk, ohw]
    out.set(vy, b * g.oc * ohw);
  }
  return new Tensor([g.n, g.oc, g.oh, g.ow], out);
}

function conv2dGradInput(dy: Tensor, wt: Tensor, xShape: readonly number[], params: Conv2dParams): Tensor {
  const g = geometry(xShape, wt.shape, params);
  if (!g || !f32(dy, wt) || dy.size !== g.n * g.oc * g.oh * g.ow) return referenceBackend.conv2dGradInput(dy, wt, xShape, params);
  const ckk = g.c * g.k * g.k, ohw = g.oh * g.ow;
  const { kernels, offsets: [pwt, pd, pc], views: [vwt, vd, vc] } = scratch([ckk * g.oc, g.oc * ohw, ckk * ohw]);
  transpose2d(wt.data, g.oc, ckk, vwt);
  const dx = new Float32Array(g.n * g.c * g.h * g.w);
  for (let b = 0; b < g.n; b++) {
    vd.set(dy.data.subarray(b * g.oc * ohw, (b + 1) * g.oc * ohw));
    kernels.sgemm_nn(pwt, pd, pc, ckk, ohw, g.oc, 0); // dcols[ckk, ohw] = Wᵀ · dy_b
    col2im(vc, b, g, dx);
  }
  return new Tensor(xShape, dx);
}

function conv2dGradWeight(x: Tensor, dy: Tensor, wShape: readonly number[], params: Conv2dParams): Tensor {
  const g = geometry(x.shape, wShape, params);
  if (!g || g.n === 0 || !f32(x, dy) || dy.size !== g.n * g.oc * g.oh * g.ow) return referenceBackend.conv2dGradWeight(x, dy, wShape, params);
  const ckk = g.c * g.k * g.k, ohw = g.oh * g.ow;
  const { kernels, offsets: [pd, pc, pw], views: [vd, vc, vw] } = scratch([g.oc * ohw, ckk * ohw, g.oc * ckk]);
  for (let b = 0; b < g.n; b++) {
    im2col(x.data, b, g, vc);
    vd.set(dy.data.subarray(b * g.oc * ohw, (b + 1) * g.oc * ohw));
    kernels.sgemm_nt(pd, pc, pw, g.oc, ckk, ohw, b > 0 ? 1 : 0); // dW += dy_b[oc, ohw] · cols[ckk, ohw]ᵀ
  }
  return new Tensor(wShape, Float32Array.from(vw));
}

/** The WebAssembly SIMD backend, or null where the runtime cannot run the module. */
export function createWasmBackend(): Backend | null {
  if (!wasmSimdAvailable()) return null;
  return { ...referenceBackend, name: 'cpu-wasm-simd', matmul, conv2d, conv2dGradInput, conv2dGradWeight };
}


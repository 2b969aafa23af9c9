// Matrix products on the 4×8-tiled WebAssembly kernel: operands are packed into linear memory with rows
// padded to a multiple of 4 (A, C) and columns to a multiple of 8 (B, C), zero-filled, so the kernel never
// handles ragged edges; k is split into cache-sized chunks.
import { type Kernels, copyOut, scratch } from './module.ts';

/** Rows of A per tile, columns of B per tile (the kernel's register block). */
export const ceil4 = (v: number) => (v + 3) & ~3;
export const ceil8 = (v: number) => (v + 7) & ~7;

/** k-chunk: a 256 × 8 panel of B (8 KiB) stays in L1 while the 4-row blocks of A stream past it. */
const KC = 256;

/**
 * C[mp×np] (+)= A[mp×k] · B[k×np] on operands already packed at byte offsets pa, pb, pc (A row stride k,
 * B and C row stride np). mp is a multiple of 4, np of 8. `rows` (≤ mp): the rows that hold data, when the last
 * 4-row tile is partly padding (A's padding rows are zero): the rows past the last full tile go through the
 * one-row kernel (the same sums, bit for bit) and C's padding rows are set to zero, what the tile would write.
 * A dense layer at batch 1 then does a quarter of the work.
 */
export function sgemmPacked(
  kernels: Kernels,
  pa: number,
  pb: number,
  pc: number,
  mp: number,
  np: number,
  k: number,
  acc: boolean,
  rows = mp,
): void {
  if (k === 0) {
    if (!acc) new Float32Array(memoryOf(kernels), pc, mp * np).fill(0);
    return;
  }
  const full = rows & ~3,
    tail = rows < mp ? rows - full : 0;
  const tiled = tail ? full : mp;
  for (let p0 = 0; p0 < k; p0 += KC) {
    const kc = Math.min(KC, k - p0),
      accumulate = acc || p0 > 0 ? 1 : 0;
    if (tiled)
      kernels.sgemm(pa + p0 * 4, pb + p0 * np * 4, pc, tiled, np, kc, k, np, np, accumulate);
    if (tail)
      kernels.sgemm_row(
        pa + (full * k + p0) * 4,
        pb + p0 * np * 4,
        pc + full * np * 4,
        tail,
        np,
        kc,
        k,
        np,
        np,
        accumulate,
      );
  }
  // Padding rows: A's are zero, so the tile would have written zero (or kept C's rows under acc, zero too).
  if (tail && !acc)
    new Float32Array(memoryOf(kernels), pc + rows * np * 4, (mp - rows) * np).fill(0);
}

function memoryOf(kernels: Kernels): ArrayBuffer {
  return kernels.memory.buffer as ArrayBuffer;
}

/**
 * Transposes of right-hand operands, keyed on the source array: op(b) = bᵀ is the dense layer's x·Wᵀ, whose W
 * is the same array on every inference call. Tensor data is immutable by contract (src/tensor/tensor.ts), so
 * a cached transpose cannot go stale; entries die with their source.
 */
const transposedB = new WeakMap<Float32Array, { rows: number; t: Float32Array }>();

function transpose(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = src[base + c];
  }
  return out;
}

function cachedTranspose(src: Float32Array, rows: number, cols: number): Float32Array {
  const hit = transposedB.get(src); // a reshape shares data, so the shape is part of the key
  if (hit && hit.rows === rows && hit.t.length === src.length) return hit.t;
  const t = transpose(src, rows, cols);
  transposedB.set(src, { rows, t });
  return t;
}

/** Copies a row-major [rows × cols] block into dst with row stride ld (≥ cols), zero-filling the padding. */
export function packRows(
  src: Float32Array,
  rows: number,
  cols: number,
  dst: Float32Array,
  ld: number,
  padRows: number,
): void {
  if (ld === cols) dst.set(src.subarray(0, rows * cols));
  else
    for (let r = 0; r < rows; r++) {
      dst.set(src.subarray(r * cols, (r + 1) * cols), r * ld);
      dst.fill(0, r * ld + cols, (r + 1) * ld);
    }
  dst.fill(0, rows * ld, padRows * ld);
}

/** op(a)[m×k] · op(b)[k×n] for f32 row-major data. */
export function gemm(
  a: Float32Array,
  b: Float32Array,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
): Float32Array {
  const mp = ceil4(m),
    np = ceil8(n);
  const {
    kernels,
    offsets: [pa, pb, pc],
    views: [va, vb, vc],
  } = scratch([mp * k, k * np, mp * np]);
  packRows(transA ? transpose(a, k, m) : a, m, k, va, k, mp);
  packRows(transB ? cachedTranspose(b, n, k) : b, k, n, vb, np, k);
  sgemmPacked(kernels, pa, pb, pc, mp, np, k, false, m);
  if (np === n) return copyOut(vc, m * n);
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) out.set(vc.subarray(i * np, i * np + n), i * n);
  return out;
}

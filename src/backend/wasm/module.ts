// Instantiates the WebAssembly SIMD kernels (kernels/*.wat, assembled and embedded as base64, or a module the platform
// compiled: useKernelsModule) and hands out scratch space in their linear memory. Pure WebAssembly: no file access,
// so it runs in Bun, Deno, Node, browsers and workers.
import { KERNELS_WASM_BASE64 } from './kernels-wasm.ts';
import { BlockAllocator, type Block } from './block-allocator.ts';

/** C[m×n] = (acc ? C : 0) + A[m×k] · B[k×n] on byte offsets into linear memory, row strides in floats. */
type Gemm = (
  a: number,
  b: number,
  c: number,
  m: number,
  n: number,
  k: number,
  lda: number,
  ldb: number,
  ldc: number,
  acc: number,
) => void;

/** The module's exports (see kernels/*.wat for each kernel's contract). */
export interface Kernels {
  memory: WebAssembly.Memory;
  sgemm: Gemm;
  /** sgemm one row at a time, for any m: the same sums, bit for bit, without a 4-row tile's padding rows. */
  sgemm_row: Gemm;
  relu(a: number, y: number, n: number): void;
  add(a: number, b: number, y: number, n: number): void;
  sub(a: number, b: number, y: number, n: number): void;
  mul(a: number, b: number, y: number, n: number): void;
  add_s(a: number, s: number, y: number, n: number): void;
  sub_s(a: number, s: number, y: number, n: number): void;
  mul_s(a: number, s: number, y: number, n: number): void;
  gt_s(a: number, s: number, y: number, n: number): void;
  ge_s(a: number, s: number, y: number, n: number): void;
  lt_s(a: number, s: number, y: number, n: number): void;
  le_s(a: number, s: number, y: number, n: number): void;
  bias_add(x: number, bias: number, y: number, planes: number, c: number, inner: number): void;
  im2col(
    mode: number,
    x: number,
    cols: number,
    nb: number,
    c: number,
    h: number,
    w: number,
    k: number,
    s: number,
    p: number,
    oh: number,
    ow: number,
    ld: number,
  ): void;
  bias_add_rows(y: number, bias: number, rows: number, ld: number): void;
  copy_rows(
    src: number,
    dst: number,
    rows: number,
    len: number,
    srcLd: number,
    dstLd: number,
  ): void;
  relu_grad_input(y: number, dy: number, n: number): void;
  transpose(
    src: number,
    dst: number,
    rows: number,
    cols: number,
    srcLd: number,
    dstLd: number,
  ): void;
  conv2d_direct(
    xp: number,
    w: number,
    y: number,
    c: number,
    pairs: number,
    hp: number,
    wp: number,
    k: number,
    nq: number,
  ): void;
  max_pool2d(
    backward: number,
    x: number,
    dy: number,
    y: number,
    planes: number,
    h: number,
    w: number,
    k: number,
    s: number,
    oh: number,
    ow: number,
  ): void;
}

let instance: { kernels: Kernels; memory: WebAssembly.Memory } | null = null;
/** The module handed over by useKernelsModule; when set, the embedded bytes are never decoded. */
let supplied: WebAssembly.Module | null = null;

/**
 * Uses `module`, the kernels already compiled by the platform, instead of compiling the embedded bytes. For
 * runtimes that forbid compiling WebAssembly from bytes at run time (Cloudflare Workers hand a `.wasm` import
 * over as a WebAssembly.Module): call it before any op runs. Installing the same module again is a no-op;
 * another one once the kernels have run is refused, since their linear memory holds live buffers.
 */
export function useKernelsModule(module: WebAssembly.Module): void {
  if (!(module instanceof WebAssembly.Module))
    throw new TypeError('useKernelsModule: expected a WebAssembly.Module');
  if (module === supplied) return;
  if (instance)
    throw new Error('useKernelsModule: the kernels already run; install the module before any op');
  supplied = module;
}

/** Whether this runtime validates the module (WebAssembly with SIMD); callers fall back to TS kernels if not. */
export function wasmSimdAvailable(): boolean {
  // A supplied module was compiled by the platform, which proves it runs SIMD; the bytes stay untouched.
  if (supplied) return true;
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(moduleBytes());
  } catch {
    return false;
  }
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const bin = atob(KERNELS_WASM_BASE64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

function get(): { kernels: Kernels; memory: WebAssembly.Memory } {
  if (!instance) {
    // Synchronous compile: the module is about 5 KiB. Chrome before 114 refused modules over 4 KiB on the main
    // thread (workers were never limited); 114 removed that limit (blink-dev "Deprecate module size limit for
    // WebAssembly.Module()", 2023), and Firefox and Safari never had it.
    const inst = new WebAssembly.Instance(supplied ?? new WebAssembly.Module(moduleBytes()), {});
    instance = {
      kernels: inst.exports as unknown as Kernels,
      memory: inst.exports.memory as WebAssembly.Memory,
    };
  }
  return instance;
}

// Linear memory: reserved blocks (compiled chains keep activations there between forward and backward) at
// the bottom, [0, arena.reservedEnd), managed by a BlockAllocator; scratch space for single ops above them.
const align16 = (bytes: number) => Math.ceil(bytes / 16) * 16;

/**
 * Bytes left after every host buffer (scratch arrays, chain arena blocks): kernels that work in whole vectors
 * (2×2 pooling, im2col's row copies) may read, and im2col may write, up to 7 floats past a buffer's end.
 */
const GUARD_BYTES = 64;

/** Bytes a host buffer of `floats` floats takes in linear memory: 16-byte aligned, then the guard. */
export const guardedBytes = (floats: number) => align16(floats * 4) + GUARD_BYTES;

/** The kernels and the current memory (re-read after anything that may grow it: views detach on growth). */
export function wasm(): { kernels: Kernels; memory: WebAssembly.Memory } {
  return get();
}

/** Grows linear memory by at least `bytes`, or fails with a message a user can act on (not the engine's). */
function grow(memory: WebAssembly.Memory, bytes: number): void {
  try {
    memory.grow(Math.ceil(bytes / 65536));
  } catch (e) {
    const mib = (b: number) => Math.ceil(b / 2 ** 20);
    throw new Error(
      `wasm backend: out of linear memory: ${mib(bytes)} MiB more needed on top of ${mib(memory.buffer.byteLength)} MiB ` +
        `(wasm32 memory ends at 4 GiB); use smaller batches (${(e as Error).message})`,
      { cause: e },
    );
  }
}

const arena = new BlockAllocator((end) => {
  const { memory } = get();
  const need = end - memory.buffer.byteLength;
  if (need > 0) grow(memory, need);
});

/** A block of `floats` floats that no scratch() call will overwrite, until release(). */
export function reserve(floats: number): Block {
  return arena.reserve(align16(Math.max(floats, 1) * 4));
}

/** Returns a reserved block for reuse. */
export function release(block: Block): void {
  arena.release(block);
}

/** The reserved area's end and free holes (diagnostics; tests check that disposed chains give memory back). */
export function arenaStats(): { reservedEnd: number; freeBytes: number; freeBlocks: number } {
  return arena.stats();
}

/**
 * Lays out `sizes` float32 arrays back to back (16-byte aligned) in linear memory above the reserved
 * blocks, growing it when needed, and returns their byte offsets and Float32Array views. Views are valid
 * until the next call.
 */
export function scratch(sizes: readonly number[]): {
  kernels: Kernels;
  offsets: number[];
  views: Float32Array[];
} {
  const { kernels, memory } = get();
  const offsets: number[] = [];
  let end = arena.reservedEnd;
  for (const n of sizes) {
    offsets.push(end);
    end += guardedBytes(n);
  }
  const need = end - memory.buffer.byteLength;
  if (need > 0) grow(memory, need);
  const views = sizes.map((n, i) => new Float32Array(memory.buffer, offsets[i], n));
  return { kernels, offsets, views };
}

/**
 * scratch() whose first arrays hold copies of `inputs` (each as long as its input), followed by arrays of
 * `sizes` floats left as they are (callers zero what needs zeros).
 */
export function scratchWith(
  inputs: readonly ArrayLike<number>[],
  sizes: readonly number[] = [],
): { kernels: Kernels; offsets: number[]; views: Float32Array[] } {
  const s = scratch([...inputs.map((a) => a.length), ...sizes]);
  inputs.forEach((a, i) => s.views[i].set(a));
  return s;
}

/**
 * A fresh array holding the first n floats of a scratch view. NOTE: alloc + set, not view.slice(): in Bun
 * (JSC) slice of a large typed array is about twice as slow as allocating and copying.
 */
export function copyOut(view: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n);
  out.set(view.subarray(0, n));
  return out;
}

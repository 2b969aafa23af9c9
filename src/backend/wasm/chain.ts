// A compiled chain of conv / dense / relu / max-pool / flatten steps run entirely in WebAssembly memory:
// forward (inference, or keeping activations) and backward (input gradient and parameter gradients from
// dL/dlogits). Only the input, dL/dlogits and the results cross into JS: in JSC a fresh multi-MB
// Float32Array per op costs as much as the op's arithmetic, so op-by-op autodiff spends most of its time
// allocating. The autodiff stays the general path (and the oracle: tests compare the two).
import { type CompiledChain, type InferenceStep, Tensor } from '../../tensor/index.ts';
import { ceil4, ceil8, sgemmPacked } from './gemm.ts';
import { guardedBytes, release, reserve, wasm, type Kernels } from './module.ts';

/**
 * colRows: rows of a column matrix [colRows × np]: the ckk im2col rows, a row of ones over the ohw pixels
 * (so the weight-gradient GEMM yields the bias gradient as one more output row), zero rows up to a multiple of 4.
 */
interface ConvOp {
  kind: 'conv'; step: number; c: number; h: number; w: number; oc: number; k: number; s: number; p: number; oh: number; ow: number; ocp: number; np: number; colRows: number;
  /** Geometry of the direct kernel (conv_direct), or null where im2col + GEMM runs every pass. */
  direct: DirectConv | null;
}

/** A direct convolution's padded image (c planes of hp × wp) and output planes (pairs·2 of nq floats). */
interface DirectConv { hp: number; wp: number; nq: number; pairs: number }

/**
 * The direct kernel for a stride-1 convolution whose im2col would cost about what its GEMM does: few taps per
 * output (c·k·k ≤ 32, the first layer of an image model) and little waste at the padded width (ow ≥ ¾ of it).
 * Forward passes that keep columns for weight gradients still run im2col + GEMM (they need the columns).
 */
function directFor(c: number, h: number, w: number, k: number, s: number, p: number, oc: number, oh: number, ow: number): DirectConv | null {
  const wp = w + 2 * p;
  if (s !== 1 || c * k * k > 32 || ow < 0.75 * wp) return null;
  return { hp: h + 2 * p, wp, nq: Math.ceil((oh * wp) / 16) * 16, pairs: Math.ceil(oc / 2) };
}

interface DenseOp { kind: 'dense'; step: number; f: number; ldIn: number; out: number; outp: number }
interface PoolOp { kind: 'pool'; c: number; h: number; w: number; k: number; s: number; oh: number; ow: number }
interface FlattenOp { kind: 'flatten'; f: number; ld: number }
type Op = ConvOp | DenseOp | PoolOp | { kind: 'relu' } | FlattenOp;

/** Activation layout: NCHW planes, or rows [N × ld] with `f` valid features (ld ≥ f, padding columns zero). */
type Layout = { kind: 'nchw'; c: number; h: number; w: number } | { kind: 'rows'; f: number; ld: number };

const floatsPerImage = (l: Layout) => (l.kind === 'nchw' ? l.c * l.h * l.w : l.ld);

/**
 * A weighted step's raw parameters (row-major [out × in], as the model stores them) and the sizes of the
 * blocks they are packed into in the arena (float32, zero-padded):
 * conv: fwd W [ocp × ckk], bwd Wᵀ [ckkp × oc] (dx = Wᵀ·dy); dense: fwd Wᵀ [ldIn × outp], bwd W [outp × ldIn]
 * (dx = dy·W); bias [oc] or [outp]; for a direct conv, conv_direct's (w[o], w[o+1]) couples per channel pair.
 * Packing runs in WebAssembly (row copies and a transpose), so swapping in a training step's new weights
 * costs a copy, not a JS loop over every weight.
 */
interface StepWeights {
  weight: Float32Array;
  bias: Float32Array;
  /** Floats in the fwd, bwd, bias and direct-kernel blocks (the last 0 where there is none). */
  sizes: [number, number, number, number];
}

/** Compiles the chain, or returns null for one it does not cover (the caller runs op by op). */
export function compileChain(steps: readonly InferenceStep[], inputShape: readonly number[]): CompiledChain | null {
  if (inputShape.length !== 3) return null;
  let layout: Layout = { kind: 'nchw', c: inputShape[0], h: inputShape[1], w: inputShape[2] };
  const layouts: Layout[] = [layout]; // layouts[i] = input of op i; layouts[ops.length] = output
  const ops: Op[] = [];
  const packed: (StepWeights | null)[] = steps.map(() => null);
  for (let si = 0; si < steps.length; si++) {
    const step = steps[si];
    if ((step.kind === 'conv2d' || step.kind === 'dense') && (step.weight.dtype !== 'f32' || step.bias.dtype !== 'f32')) return null;
    switch (step.kind) {
      case 'conv2d': {
        if (layout.kind !== 'nchw') return null;
        const [oc, ci, k, k2] = step.weight.shape;
        const { stride: s, padding: p } = step.params;
        if (ci !== layout.c || k !== k2 || step.bias.size !== oc) return null;
        const oh: number = Math.floor((layout.h + 2 * p - k) / s) + 1, ow: number = Math.floor((layout.w + 2 * p - k) / s) + 1;
        if (oh < 1 || ow < 1) return null;
        const ckk = ci * k * k, ocp = ceil4(oc);
        const direct = directFor(ci, layout.h, layout.w, k, s, p, oc, oh, ow);
        packed[si] = { weight: step.weight.data as Float32Array, bias: step.bias.data as Float32Array, sizes: [ocp * ckk, ceil4(ckk) * oc, oc, direct ? direct.pairs * 2 * ckk : 0] };
        ops.push({ kind: 'conv', step: si, c: ci, h: layout.h, w: layout.w, oc, k, s, p, oh, ow, ocp, np: ceil8(oh * ow), colRows: ceil4(ckk + 1), direct });
        layout = { kind: 'nchw', c: oc, h: oh, w: ow };
        break;
      }
      case 'maxPool2d': {
        if (layout.kind !== 'nchw') return null;
        const { kernelSize: k, stride: s } = step.params;
        const oh: number = Math.floor((layout.h - k) / s) + 1, ow: number = Math.floor((layout.w - k) / s) + 1;
        if (oh < 1 || ow < 1) return null;
        ops.push({ kind: 'pool', c: layout.c, h: layout.h, w: layout.w, k, s, oh, ow });
        layout = { kind: 'nchw', c: layout.c, h: oh, w: ow };
        break;
      }
      case 'relu':
        ops.push({ kind: 'relu' });
        break;
      case 'flatten': {
        const f: number = layout.kind === 'nchw' ? layout.c * layout.h * layout.w : layout.f;
        const ld = ceil8(f); // a multiple of 8: the backward GEMM dx = dy·W has it as its column count
        ops.push({ kind: 'flatten', f, ld });
        layout = { kind: 'rows', f, ld };
        break;
      }
      case 'dense': {
        if (layout.kind !== 'rows') return null;
        const [out, inDim] = step.weight.shape;
        if (inDim !== layout.f || step.bias.size !== out) return null;
        const outp = ceil8(out), ldIn = layout.ld;
        packed[si] = { weight: step.weight.data as Float32Array, bias: step.bias.data as Float32Array, sizes: [ldIn * outp, outp * ldIn, outp, 0] };
        ops.push({ kind: 'dense', step: si, f: inDim, ldIn, out, outp });
        layout = { kind: 'rows', f: out, ld: outp };
        break;
      }
    }
    layouts.push(layout);
  }
  if (layout.kind !== 'rows' && ops.some((o) => o.kind === 'dense')) return null;
  return new WasmChain(steps, inputShape, ops, layouts, packed);
}

/** Most bytes of column matrices a chain keeps between forward(x, 'params') and backward (see colsFor). */
const KEPT_COLS_BYTES = 128 * 2 ** 20;

// Blocks of linear memory owned by chains that were garbage-collected go back to the allocator.
const arenas = new FinalizationRegistry<{ offset: number; bytes: number }>((block) => release(block));

class WasmChain implements CompiledChain {
  private arena: { offset: number; bytes: number } | null = null;
  private capacity = -1; // images the arena is laid out for
  /** Arena layout for the current capacity (internal; public only so helper signatures can name it). */
  layoutFor: { act: number[]; weights: { fwd: number; bwd: number; bias: number; dir: number }[]; grad: [number, number]; cols: number; tmp: number; dwt: number; dyt: number; xpad: number } | null = null;
  private kept = -1; // batch size of the activations kept by forward(x, true), or -1
  private colsKeptFor = -1; // batch size whose column matrices forward(x, 'params') kept, or -1
  private readonly token = {};
  /**
   * Column matrices kept from forward(x, 'params') for the weight gradients: per conv op, `cap` images of
   * [colRows × np] (byte offsets, -1 for other ops). Null when they would exceed KEPT_COLS_BYTES: the backward
   * pass then rebuilds each image's columns (the same numbers, more time).
   */
  private keptCols: { block: { offset: number; bytes: number }; cap: number; at: number[] } | null = null;
  private readonly colsToken = {};

  constructor(
    private steps: readonly InferenceStep[],
    private readonly inputShape: readonly number[],
    private readonly ops: readonly Op[],
    private readonly layouts: readonly Layout[],
    private readonly packed: (StepWeights | null)[],
  ) {}

  setWeights(steps: readonly InferenceStep[]): boolean {
    if (steps.length !== this.steps.length) return false;
    for (let i = 0; i < steps.length; i++) {
      const a = steps[i], b = this.steps[i];
      if (a.kind !== b.kind) return false;
      if ((a.kind === 'conv2d' || a.kind === 'dense') && (b.kind === 'conv2d' || b.kind === 'dense')) {
        if (a.weight.dtype !== 'f32' || a.bias.dtype !== 'f32' || a.weight.shape.join() !== b.weight.shape.join() || a.bias.size !== b.bias.size) return false;
      }
    }
    for (let i = 0; i < steps.length; i++) {
      const a = steps[i], p = this.packed[i];
      if (p && (a.kind === 'conv2d' || a.kind === 'dense')) this.packed[i] = { ...p, weight: a.weight.data as Float32Array, bias: a.bias.data as Float32Array };
    }
    this.steps = steps;
    this.kept = -1;
    if (this.layoutFor) this.writeWeights(this.layoutFor.weights);
    return true;
  }

  /** Packs every weighted step's parameters into its arena blocks. */
  private writeWeights(blocks: { fwd: number; bwd: number; bias: number; dir: number }[]): void {
    const { kernels, memory } = wasm();
    let wi = 0;
    this.ops.forEach((op) => {
      if (op.kind !== 'conv' && op.kind !== 'dense') return;
      const p = this.packed[op.step]!, b = blocks[wi++];
      // Zero first: the padding rows and columns must be 0 (a reused block may hold anything, even NaN).
      new Float32Array(memory.buffer, b.fwd, p.sizes[0]).fill(0);
      new Float32Array(memory.buffer, b.bwd, p.sizes[1]).fill(0);
      new Float32Array(memory.buffer, b.dir, p.sizes[3]).fill(0);
      new Float32Array(memory.buffer, b.bias, p.sizes[2]).fill(0).set(p.bias);
      if (op.kind === 'conv') {
        // fwd = W as stored; bwd = its transpose
        const ckk = op.c * op.k * op.k;
        new Float32Array(memory.buffer, b.fwd, p.weight.length).set(p.weight);
        kernels.transpose(b.fwd, b.bwd, op.oc, ckk, ckk, op.oc);
        if (op.direct) {
          // couples (w[2g, r], w[2g+1, r]) for r in (ci, ky, kx) order; the missing channel of an odd count is 0
          const dir = new Float32Array(memory.buffer, b.dir, p.sizes[3]);
          for (let o = 0; o < op.oc; o++) for (let r = 0; r < ckk; r++) dir[((o >> 1) * ckk + r) * 2 + (o & 1)] = p.weight[o * ckk + r];
        }
      } else {
        // bwd = W with rows padded to ldIn; fwd = its transpose (ldIn × outp)
        const bwd = new Float32Array(memory.buffer, b.bwd, op.outp * op.ldIn);
        for (let o = 0; o < op.out; o++) bwd.set(p.weight.subarray(o * op.f, (o + 1) * op.f), o * op.ldIn);
        kernels.transpose(b.bwd, b.fwd, op.out, op.f, op.ldIn, op.outp);
      }
    });
  }

  /** Gives the arena back now (the chain lays out a new one if used again). */
  dispose(): void {
    this.dropKeptCols();
    if (!this.arena) return;
    arenas.unregister(this.token);
    release(this.arena);
    this.arena = null;
    this.layoutFor = null;
    this.capacity = -1;
    this.kept = -1;
  }

  /** Lays out (or reuses) the arena for n images: weights, one activation per op output, gradients, scratch. */
  private ensure(n: number) {
    const nP = ceil4(n);
    if (this.layoutFor && nP <= this.capacity) return this.layoutFor;
    const cap = Math.max(nP, 4);
    const sizes: number[] = [];
    const weights: number[] = [];
    for (const p of this.packed) if (p) weights.push(sizes.push(...p.sizes) - 4);
    // act[i]: input of op i (act[0] the batch); relu works in place, so it shares its input's buffer.
    const actSizes = this.layouts.map((l) => cap * floatsPerImage(l) + 64);
    let maxAct = 0, cols = 0, tmp = 0, dwt = 0, dyt = 0, xpad = 0;
    for (const l of this.layouts) maxAct = Math.max(maxAct, cap * floatsPerImage(l) + 64);
    for (const op of this.ops) {
      if (op.kind === 'conv') {
        cols = Math.max(cols, op.colRows * op.np);
        tmp = Math.max(tmp, op.ocp * op.np);
        if (op.direct) {
          tmp = Math.max(tmp, op.direct.pairs * 2 * op.direct.nq);
          xpad = Math.max(xpad, op.c * op.direct.hp * op.direct.wp + 16 + op.k + 16); // + conv_direct's over-read
        }
        dwt = Math.max(dwt, op.colRows * ceil8(op.oc));
        dyt = Math.max(dyt, op.np * ceil8(op.oc));
      } else if (op.kind === 'dense') {
        dwt = Math.max(dwt, op.outp * op.ldIn);
        dyt = Math.max(dyt, op.outp * cap);
      }
    }
    const base = sizes.length;
    sizes.push(...actSizes, maxAct, maxAct, cols, tmp, dwt, dyt, xpad);
    let total = 0;
    const offsets = sizes.map((s) => {
      const o = total;
      total += guardedBytes(s);
      return o;
    });
    if (this.arena) {
      arenas.unregister(this.token);
      release(this.arena);
    }
    this.arena = reserve(total / 4);
    arenas.register(this, this.arena, this.token);
    const at = (i: number) => this.arena!.offset + offsets[i];
    const act: number[] = [];
    for (let i = 0; i < this.layouts.length; i++) act.push(i > 0 && this.ops[i - 1].kind === 'relu' ? act[i - 1] : at(base + i));
    this.layoutFor = {
      act, weights: weights.map((i) => ({ fwd: at(i), bwd: at(i + 1), bias: at(i + 2), dir: at(i + 3) })), grad: [at(base + actSizes.length), at(base + actSizes.length + 1)],
      cols: at(base + actSizes.length + 2), tmp: at(base + actSizes.length + 3), dwt: at(base + actSizes.length + 4), dyt: at(base + actSizes.length + 5),
      xpad: at(base + actSizes.length + 6),
    };
    this.writeWeights(this.layoutFor.weights);
    this.capacity = cap;
    this.kept = -1;
    return this.layoutFor;
  }

  private colsFor(cap: number): number[] | null {
    if (this.keptCols && this.keptCols.cap >= cap) return this.keptCols.at;
    const perImage = this.ops.reduce((t, op) => t + (op.kind === 'conv' ? op.colRows * op.np : 0), 0);
    if (perImage === 0 || cap * perImage * 4 > KEPT_COLS_BYTES) return null;
    this.dropKeptCols();
    const sizes = this.ops.map((op) => (op.kind === 'conv' ? guardedBytes(cap * op.colRows * op.np) : 0));
    const block = reserve(sizes.reduce((a, b) => a + b, 0) / 4);
    arenas.register(this, block, this.colsToken);
    let off = block.offset;
    const at = this.ops.map((op, i) => {
      if (op.kind !== 'conv') return -1;
      const o = off;
      off += sizes[i];
      return o;
    });
    this.keptCols = { block, cap, at };
    return at;
  }

  private dropKeptCols(): void {
    if (!this.keptCols) return;
    arenas.unregister(this.colsToken);
    release(this.keptCols.block);
    this.keptCols = null;
  }

  forward(x: Tensor, keep: boolean | 'params' = false): Tensor {
    const n = x.shape[0];
    if (x.dtype !== 'f32' || x.shape.slice(1).join() !== this.inputShape.join()) {
      throw new Error(`chain: input must be f32 [N, ${this.inputShape.join(', ')}], got ${x.dtype} [${x.shape.join(', ')}]`);
    }
    const final = this.layouts[this.layouts.length - 1];
    const outShape = final.kind === 'rows' ? [n, final.f] : [n, final.c, final.h, final.w];
    if (n === 0) return new Tensor(outShape, new Float32Array(0));
    const L = this.ensure(n);
    const nP = ceil4(n);
    const colsKept = keep === 'params' ? this.colsFor(this.capacity) : null;
    const { kernels, memory } = wasm();
    const f32 = (off: number, len: number) => new Float32Array(memory.buffer, off, len);
    const per0 = floatsPerImage(this.layouts[0]);
    f32(L.act[0], nP * per0).set(x.data as Float32Array);
    f32(L.act[0] + n * per0 * 4, (nP - n) * per0).fill(0); // padding images: zero, so every value stays finite
    let wi = 0;
    this.ops.forEach((op, i) => {
      const src = L.act[i], dst = L.act[i + 1];
      switch (op.kind) {
        case 'conv': {
          const W = L.weights[wi++];
          const inPlane = op.c * op.h * op.w, ohw = op.oh * op.ow, ckk = op.c * op.k * op.k;
          const d = op.direct;
          if (d && !colsKept) {
            const xp = f32(L.xpad, op.c * d.hp * d.wp + 32);
            for (let b = 0; b < n; b++) {
              // the image into the zeroed padded planes, the direct kernel, then rows back to ow wide
              xp.fill(0);
              for (let ci = 0; ci < op.c; ci++)
                kernels.copy_rows(src + (b * inPlane + ci * op.h * op.w) * 4, L.xpad + ((ci * d.hp + op.p) * d.wp + op.p) * 4, op.h, op.w, op.w, d.wp);
              kernels.conv_direct(L.xpad, W.dir, L.tmp, op.c, d.pairs, d.hp, d.wp, op.k, d.nq);
              const out = dst + b * op.oc * ohw * 4;
              for (let o = 0; o < op.oc; o++) kernels.copy_rows(L.tmp + o * d.nq * 4, out + o * ohw * 4, op.oh, op.ow, d.wp, op.ow);
            }
            kernels.bias_add(dst, W.bias, dst, n * op.oc, op.oc, ohw);
            break;
          }
          for (let b = 0; b < n; b++) {
            const cols = colsKept ? colsKept[i] + b * op.colRows * op.np * 4 : L.cols;
            kernels.im2col(0, src + b * inPlane * 4, cols, 1, op.c, op.h, op.w, op.k, op.s, op.p, op.oh, op.ow, op.np);
            const out = dst + b * op.oc * ohw * 4;
            if (op.np === ohw) {
              // C rows land straight in NCHW order; the tile's padding rows spill into image b+1's area,
              // written after (images go in order), or into the arena's slack after the last image.
              sgemmPacked(kernels, W.fwd, cols, out, op.ocp, op.np, ckk, false);
            } else {
              sgemmPacked(kernels, W.fwd, cols, L.tmp, op.ocp, op.np, ckk, false);
              kernels.copy_rows(L.tmp, out, op.oc, ohw, op.np, ohw);
            }
            if (colsKept) onesRows(f32, cols, op);
          }
          kernels.bias_add(dst, W.bias, dst, n * op.oc, op.oc, ohw);
          break;
        }
        case 'pool':
          kernels.max_pool(0, src, 0, dst, n * op.c, op.h, op.w, op.k, op.s, op.oh, op.ow);
          break;
        case 'relu': {
          const l = this.layouts[i];
          kernels.relu(src, dst, ceil4(l.kind === 'nchw' ? n * floatsPerImage(l) : nP * l.ld));
          break;
        }
        case 'flatten': {
          const l = this.layouts[i];
          const f = floatsPerImage(l);
          if (l.kind === 'rows') kernels.copy_rows(src, dst, n, l.f, l.ld, op.ld);
          else kernels.copy_rows(src, dst, n, f, f, op.ld);
          // Padding columns and padding rows are zero: dense GEMMs read them (times zero weights, or as
          // rows whose gradient is zero), and 0 · finite = 0.
          const v = f32(dst, nP * op.ld);
          if (op.ld > op.f) for (let r = 0; r < n; r++) v.fill(0, r * op.ld + op.f, (r + 1) * op.ld);
          v.fill(0, n * op.ld, nP * op.ld);
          break;
        }
        case 'dense': {
          const W = L.weights[wi++];
          sgemmPacked(kernels, src, W.fwd, dst, nP, op.outp, op.ldIn, false);
          kernels.row_bias(dst, W.bias, nP, op.outp);
          break;
        }
      }
    });
    this.kept = keep ? n : -1;
    this.colsKeptFor = colsKept ? n : -1;
    const out = L.act[this.layouts.length - 1];
    const res = new Float32Array(n * (final.kind === 'rows' ? final.f : floatsPerImage(final)));
    if (final.kind === 'rows') {
      const v = f32(out, n * final.ld);
      for (let r = 0; r < n; r++) res.set(v.subarray(r * final.ld, r * final.ld + final.f), r * final.f);
    } else res.set(f32(out, res.length));
    return new Tensor(outShape, res);
  }

  backward(dy: Tensor, want: { input: boolean; params: boolean }): { dx: Tensor | null; params: ({ weight: Tensor; bias: Tensor } | null)[] } {
    const n = this.kept;
    if (n < 0) throw new Error('chain: backward() needs a forward(x, true) first');
    this.kept = -1; // activations are used once: a second backward would need a second forward
    const keptColsN = this.colsKeptFor;
    this.colsKeptFor = -1;
    const final = this.layouts[this.layouts.length - 1];
    if (dy.dtype !== 'f32' || dy.shape[0] !== n || dy.size !== n * (final.kind === 'rows' ? final.f : floatsPerImage(final))) {
      throw new Error(`chain: dy must be f32 with the forward output's shape, got ${dy.dtype} [${dy.shape.join(', ')}]`);
    }
    const L = this.layoutFor!;
    const nP = ceil4(n);
    const { kernels, memory } = wasm();
    const f32 = (off: number, len: number) => new Float32Array(memory.buffer, off, len);
    let [g, gNext] = L.grad;
    // dL/d(output) into a zero-padded buffer in the output's layout.
    {
      const per = floatsPerImage(final);
      const v = f32(g, nP * per);
      v.fill(0);
      if (final.kind === 'rows') for (let r = 0; r < n; r++) v.set((dy.data as Float32Array).subarray(r * final.f, (r + 1) * final.f), r * final.ld);
      else v.set(dy.data as Float32Array);
    }
    const params: ({ weight: Tensor; bias: Tensor } | null)[] = this.steps.map(() => null);
    // Gradients flow down to op stopAt's input: the batch (want.input) or the first weighted op's output.
    const firstWeighted = this.ops.findIndex((o) => o.kind === 'conv' || o.kind === 'dense');
    const stopAt = want.input ? 0 : want.params && firstWeighted >= 0 ? firstWeighted + 1 : this.ops.length;
    let wi = this.packed.filter((p) => p).length;
    for (let i = this.ops.length - 1; i >= 0; i--) {
      const op = this.ops[i];
      const x = L.act[i], y = L.act[i + 1];
      const W = op.kind === 'conv' || op.kind === 'dense' ? L.weights[--wi] : null;
      if (want.params && op.kind === 'dense') params[op.step] = this.denseParamGrads(op, kernels, f32, L, g, x, n);
      if (want.params && op.kind === 'conv') params[op.step] = this.convParamGrads(op, kernels, f32, L, g, x, n, keptColsN === n ? this.keptCols!.at[i] : -1);
      if (i < stopAt) break;
      switch (op.kind) {
        case 'relu': {
          const l = this.layouts[i];
          kernels.relu_grad(y, g, ceil4(l.kind === 'nchw' ? n * floatsPerImage(l) : nP * l.ld));
          continue; // in place
        }
        case 'pool':
          f32(gNext, n * op.c * op.h * op.w).fill(0);
          kernels.max_pool(1, x, g, gNext, n * op.c, op.h, op.w, op.k, op.s, op.oh, op.ow);
          break;
        case 'flatten': {
          const l = this.layouts[i];
          if (l.kind === 'rows') kernels.copy_rows(g, gNext, nP, l.f, op.ld, l.ld);
          else kernels.copy_rows(g, gNext, n, op.f, op.ld, op.f);
          break;
        }
        case 'dense':
          // dx [nP × ldIn] = dy [nP × outp] · W [outp × ldIn]
          sgemmPacked(kernels, g, W!.bwd, gNext, nP, op.ldIn, op.outp, false);
          break;
        case 'conv': {
          // dx_b = col2im(Wᵀ [ckkp × oc] · dy_b [oc × np])
          const ckkp = ceil4(op.c * op.k * op.k), ohw = op.oh * op.ow, inPlane = op.c * op.h * op.w;
          f32(gNext, n * inPlane).fill(0);
          for (let b = 0; b < n; b++) {
            let dyb = g + b * op.oc * ohw * 4;
            if (op.np !== ohw) {
              kernels.copy_rows(dyb, L.tmp, op.oc, ohw, ohw, op.np);
              for (let o = 0; o < op.oc; o++) f32(L.tmp + (o * op.np + ohw) * 4, op.np - ohw).fill(0);
              dyb = L.tmp;
            }
            sgemmPacked(kernels, W!.bwd, dyb, L.cols, ckkp, op.np, op.oc, false);
            kernels.im2col(1, gNext + b * inPlane * 4, L.cols, 1, op.c, op.h, op.w, op.k, op.s, op.p, op.oh, op.ow, op.np);
          }
          break;
        }
      }
      [g, gNext] = [gNext, g];
    }
    let dx: Tensor | null = null;
    if (want.input) {
      const l0 = this.layouts[0];
      const per = floatsPerImage(l0);
      const res = new Float32Array(n * per);
      res.set(f32(g, n * per));
      dx = new Tensor([n, ...this.inputShape], res);
    }
    return { dx, params };
  }

  /** dW [outp × ldIn] = dyᵀ [outp × nP] · x [nP × ldIn] (padding rows of dy are zero); db = Σ_rows dy. */
  private denseParamGrads(op: DenseOp, kernels: Kernels, f32: View, L: Arena, g: number, x: number, n: number) {
    const nP = ceil4(n);
    kernels.transpose(g, L.dyt, nP, op.outp, op.outp, nP);
    sgemmPacked(kernels, L.dyt, x, L.dwt, op.outp, op.ldIn, nP, false);
    const dwv = f32(L.dwt, op.outp * op.ldIn), gv = f32(g, n * op.outp);
    const dw = new Float32Array(op.out * op.f);
    for (let o = 0; o < op.out; o++) dw.set(dwv.subarray(o * op.ldIn, o * op.ldIn + op.f), o * op.f);
    const db = new Float32Array(op.out);
    for (let r = 0; r < n; r++) for (let o = 0; o < op.out; o++) db[o] += gv[r * op.outp + o];
    return { weight: new Tensor([op.out, op.f], dw), bias: new Tensor([op.out], db) };
  }

  /**
   * [dWᵀ; dbᵀ] [colRows × ocp8] = Σ_b cols_b [colRows × np] · dy_bᵀ [np × ocp8]: the ones row of each column
   * matrix turns into the bias gradient. Columns come from forward(x, 'params') (keptAt ≥ 0) or are rebuilt.
   */
  private convParamGrads(op: ConvOp, kernels: Kernels, f32: View, L: Arena, g: number, x: number, n: number, keptAt: number) {
    const ckk = op.c * op.k * op.k, ohw = op.oh * op.ow, ocp8 = ceil8(op.oc), inPlane = op.c * op.h * op.w;
    f32(L.dyt, op.np * ocp8).fill(0); // rows ohw..np stay 0 (they meet the columns' zero padding)
    for (let b = 0; b < n; b++) {
      let cols = keptAt + b * op.colRows * op.np * 4;
      if (keptAt < 0) {
        cols = L.cols;
        kernels.im2col(0, x + b * inPlane * 4, cols, 1, op.c, op.h, op.w, op.k, op.s, op.p, op.oh, op.ow, op.np);
        onesRows(f32, cols, op);
      }
      kernels.transpose(g + b * op.oc * ohw * 4, L.dyt, op.oc, ohw, ohw, ocp8);
      sgemmPacked(kernels, cols, L.dyt, L.dwt, op.colRows, ocp8, op.np, b > 0);
    }
    const dwt = f32(L.dwt, op.colRows * ocp8);
    const dw = new Float32Array(op.oc * ckk);
    for (let o = 0; o < op.oc; o++) for (let r = 0; r < ckk; r++) dw[o * ckk + r] = dwt[r * ocp8 + o];
    const db = Float32Array.from(dwt.subarray(ckk * ocp8, ckk * ocp8 + op.oc));
    return { weight: new Tensor([op.oc, op.c, op.k, op.k], dw), bias: new Tensor([op.oc], db) };
  }
}

/** Rows ckk.. of a column matrix: ones over the ohw pixels (zero on the padding columns), then zero rows. */
function onesRows(f32: View, cols: number, op: ConvOp): void {
  const ckk = op.c * op.k * op.k, ohw = op.oh * op.ow;
  const tail = f32(cols + ckk * op.np * 4, (op.colRows - ckk) * op.np);
  tail.fill(0);
  tail.fill(1, 0, ohw);
}

type View = (offset: number, length: number) => Float32Array;
type Arena = NonNullable<WasmChain['layoutFor']>;



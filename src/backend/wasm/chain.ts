// A compiled chain of conv / dense / relu / max-pool / flatten steps run entirely in WebAssembly memory:
// forward (inference, or keeping activations) and backward (input gradient and parameter gradients from
// dL/dlogits). Only the input, dL/dlogits and the results cross into JS: in JSC a fresh multi-MB
// Float32Array per op costs as much as the op's arithmetic, so op-by-op autodiff spends most of its time
// allocating. The autodiff stays the general path (and the oracle: tests compare the two).
import type { CompiledChain, InferenceStep } from '../../tensor/backend.ts';
import { Tensor } from '../../tensor/tensor.ts';
import { ceil4, ceil8, sgemmPacked } from './gemm.ts';
import { release, reserve, wasm, type Kernels } from './module.ts';

interface ConvOp { kind: 'conv'; step: number; c: number; h: number; w: number; oc: number; k: number; s: number; p: number; oh: number; ow: number; ocp: number; np: number }
interface DenseOp { kind: 'dense'; step: number; f: number; ldIn: number; out: number; outp: number }
interface PoolOp { kind: 'pool'; c: number; h: number; w: number; k: number; s: number; oh: number; ow: number }
interface FlattenOp { kind: 'flatten'; f: number; ld: number }
type Op = ConvOp | DenseOp | PoolOp | { kind: 'relu' } | FlattenOp;

/** Activation layout: NCHW planes, or rows [N × ld] with `f` valid features (ld ≥ f, padding columns zero). */
type Layout = { kind: 'nchw'; c: number; h: number; w: number } | { kind: 'rows'; f: number; ld: number };

const floatsPerImage = (l: Layout) => (l.kind === 'nchw' ? l.c * l.h * l.w : l.ld);

/** Weights of one weighted step packed for the kernels (all float32, padded with zeros). */
interface Packed {
  /** conv: W [ocp × ckk]; dense: Wᵀ [ldIn × outp] (forward B operand). */
  fwd: Float32Array;
  /** conv: Wᵀ [ckkp × oc] (dx = Wᵀ·dy); dense: W [outp × ldIn] (dx = dy·W). */
  bwd: Float32Array;
  /** conv: bias [oc]; dense: bias [outp]. */
  bias: Float32Array;
}

/** Compiles the chain, or returns null for one it does not cover (the caller runs op by op). */
export function compileChain(steps: readonly InferenceStep[], inputShape: readonly number[]): CompiledChain | null {
  if (inputShape.length !== 3) return null;
  let layout: Layout = { kind: 'nchw', c: inputShape[0], h: inputShape[1], w: inputShape[2] };
  const layouts: Layout[] = [layout]; // layouts[i] = input of op i; layouts[ops.length] = output
  const ops: Op[] = [];
  const packed: (Packed | null)[] = steps.map(() => null);
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
        packed[si] = packConv(step.weight, step.bias);
        ops.push({ kind: 'conv', step: si, c: ci, h: layout.h, w: layout.w, oc, k, s, p, oh, ow, ocp, np: ceil8(oh * ow) });
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
        packed[si] = packDense(step.weight, step.bias, ldIn);
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

/** Conv weights: W [ocp × ckk], Wᵀ [ckkp × oc], bias [oc]. */
function packConv(weight: Tensor, bias: Tensor): Packed {
  const [oc, ci, k] = weight.shape;
  const ckk = ci * k * k, ocp = ceil4(oc), ckkp = ceil4(ckk);
  const w = weight.data as Float32Array;
  const fwd = new Float32Array(ocp * ckk);
  fwd.set(w);
  const bwd = new Float32Array(ckkp * oc);
  for (let o = 0; o < oc; o++) for (let r = 0; r < ckk; r++) bwd[r * oc + o] = w[o * ckk + r];
  return { fwd, bwd, bias: Float32Array.from(bias.data) };
}

/** Dense weights: Wᵀ [ldIn × outp], W [outp × ldIn], bias [outp], zero-padded. */
function packDense(weight: Tensor, bias: Tensor, ldIn: number): Packed {
  const [out, inDim] = weight.shape;
  const outp = ceil8(out);
  const w = weight.data as Float32Array;
  const fwd = new Float32Array(ldIn * outp), bwd = new Float32Array(outp * ldIn);
  for (let o = 0; o < out; o++)
    for (let i = 0; i < inDim; i++) {
      fwd[i * outp + o] = w[o * inDim + i];
      bwd[o * ldIn + i] = w[o * inDim + i];
    }
  const b = new Float32Array(outp);
  b.set(bias.data as Float32Array);
  return { fwd, bwd, bias: b };
}

// Blocks of linear memory owned by chains that were garbage-collected go back to the allocator.
const arenas = new FinalizationRegistry<{ offset: number; bytes: number }>((block) => release(block));

class WasmChain implements CompiledChain {
  private arena: { offset: number; bytes: number } | null = null;
  private capacity = -1; // images the arena is laid out for
  /** Arena layout for the current capacity (internal; public only so helper signatures can name it). */
  layoutFor: { act: number[]; weights: { fwd: number; bwd: number; bias: number }[]; grad: [number, number]; cols: number; tmp: number; dwt: number; dyt: number } | null = null;
  private kept = -1; // batch size of the activations kept by forward(x, true), or -1
  private readonly token = {};

  constructor(
    private steps: readonly InferenceStep[],
    private readonly inputShape: readonly number[],
    private readonly ops: readonly Op[],
    private readonly layouts: readonly Layout[],
    private readonly packed: (Packed | null)[],
  ) {}

  setWeights(steps: readonly InferenceStep[]): boolean {
    if (steps.length !== this.steps.length) return false;
    const next: (Packed | null)[] = [];
    for (let i = 0; i < steps.length; i++) {
      const a = steps[i], b = this.steps[i];
      if (a.kind !== b.kind) return false;
      if ((a.kind === 'conv2d' || a.kind === 'dense') && (b.kind === 'conv2d' || b.kind === 'dense')) {
        if (a.weight.dtype !== 'f32' || a.bias.dtype !== 'f32' || a.weight.shape.join() !== b.weight.shape.join() || a.bias.size !== b.bias.size) return false;
      }
    }
    this.ops.forEach((op) => {
      if (op.kind === 'conv') next[op.step] = packConv((steps[op.step] as { weight: Tensor }).weight, (steps[op.step] as { bias: Tensor }).bias);
      if (op.kind === 'dense') next[op.step] = packDense((steps[op.step] as { weight: Tensor }).weight, (steps[op.step] as { bias: Tensor }).bias, op.ldIn);
    });
    for (let i = 0; i < this.packed.length; i++) this.packed[i] = next[i] ?? null;
    this.steps = steps;
    this.kept = -1;
    if (this.layoutFor) this.writeWeights(this.layoutFor.weights);
    return true;
  }

  /** Copies the packed weights into their arena blocks. */
  private writeWeights(blocks: { fwd: number; bwd: number; bias: number }[]): void {
    const { memory } = wasm();
    let wi = 0;
    for (const p of this.packed) {
      if (!p) continue;
      const b = blocks[wi++];
      new Float32Array(memory.buffer, b.fwd, p.fwd.length).set(p.fwd);
      new Float32Array(memory.buffer, b.bwd, p.bwd.length).set(p.bwd);
      new Float32Array(memory.buffer, b.bias, p.bias.length).set(p.bias);
    }
  }

  /** Gives the arena back now (the chain lays out a new one if used again). */
  dispose(): void {
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
    for (const p of this.packed) if (p) weights.push(sizes.push(p.fwd.length, p.bwd.length, p.bias.length) - 3);
    // act[i]: input of op i (act[0] the batch); relu works in place, so it shares its input's buffer.
    const actSizes = this.layouts.map((l) => cap * floatsPerImage(l) + 64);
    let maxAct = 0, cols = 0, tmp = 0, dwt = 0, dyt = 0;
    for (const l of this.layouts) maxAct = Math.max(maxAct, cap * floatsPerImage(l) + 64);
    for (const op of this.ops) {
      if (op.kind === 'conv') {
        const ckk = op.c * op.k * op.k, ohw = op.oh * op.ow;
        cols = Math.max(cols, ceil4(ckk) * Math.max(op.np, ohw));
        tmp = Math.max(tmp, op.ocp * op.np);
        dwt = Math.max(dwt, ceil4(ckk) * ceil8(op.oc));
        dyt = Math.max(dyt, ohw * ceil8(op.oc));
      } else if (op.kind === 'dense') {
        dwt = Math.max(dwt, op.outp * op.ldIn);
        dyt = Math.max(dyt, op.outp * cap);
      }
    }
    const base = sizes.length;
    sizes.push(...actSizes, maxAct, maxAct, cols, tmp, dwt, dyt);
    let total = 0;
    const offsets = sizes.map((s) => {
      const o = total;
      total += Math.ceil((s * 4) / 16) * 16;
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
      act, weights: weights.map((i) => ({ fwd: at(i), bwd: at(i + 1), bias: at(i + 2) })), grad: [at(base + actSizes.length), at(base + actSizes.length + 1)],
      cols: at(base + actSizes.length + 2), tmp: at(base + actSizes.length + 3), dwt: at(base + actSizes.length + 4), dyt: at(base + actSizes.length + 5),
    };
    this.writeWeights(this.layoutFor.weights);
    this.capacity = cap;
    this.kept = -1;
    return this.layoutFor;
  }

  forward(x: Tensor, keep = false): Tensor {
    const n = x.shape[0];
    if (x.dtype !== 'f32' || x.shape.slice(1).join() !== this.inputShape.join()) {
      throw new Error(`chain: input must be f32 [N, ${this.inputShape.join(', ')}], got ${x.dtype} [${x.shape.join(', ')}]`);
    }
    const final = this.layouts[this.layouts.length - 1];
    const outShape = final.kind === 'rows' ? [n, final.f] : [n, final.c, final.h, final.w];
    if (n === 0) return new Tensor(outShape, new Float32Array(0));
    const L = this.ensure(n);
    const nP = ceil4(n);
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
          for (let b = 0; b < n; b++) {
            kernels.im2col(0, src + b * inPlane * 4, L.cols, 1, op.c, op.h, op.w, op.k, op.s, op.p, op.oh, op.ow, op.np);
            const out = dst + b * op.oc * ohw * 4;
            if (op.np === ohw) {
              // C rows land straight in NCHW order; the tile's padding rows spill into image b+1's area,
              // written after (images go in order), or into the arena's slack after the last image.
              sgemmPacked(kernels, W.fwd, L.cols, out, op.ocp, op.np, ckk, false);
            } else {
              sgemmPacked(kernels, W.fwd, L.cols, L.tmp, op.ocp, op.np, ckk, false);
              kernels.copy_rows(L.tmp, out, op.oc, ohw, op.np, ohw);
            }
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
      if (want.params && op.kind === 'conv') params[op.step] = this.convParamGrads(op, kernels, f32, L, g, x, n);
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

  /** dWᵀ [ckkp × ocp8] = Σ_b cols_b [ckkp × ohw] · dy_bᵀ [ohw × ocp8]; db = Σ dy per channel. */
  private convParamGrads(op: ConvOp, kernels: Kernels, f32: View, L: Arena, g: number, x: number, n: number) {
    const ckk = op.c * op.k * op.k, ckkp = ceil4(ckk), ohw = op.oh * op.ow, ocp8 = ceil8(op.oc), inPlane = op.c * op.h * op.w;
    f32(L.dyt, ohw * ocp8).fill(0);
    for (let b = 0; b < n; b++) {
      kernels.im2col(0, x + b * inPlane * 4, L.cols, 1, op.c, op.h, op.w, op.k, op.s, op.p, op.oh, op.ow, ohw);
      f32(L.cols + ckk * ohw * 4, (ckkp - ckk) * ohw).fill(0);
      kernels.transpose(g + b * op.oc * ohw * 4, L.dyt, op.oc, ohw, ohw, ocp8);
      sgemmPacked(kernels, L.cols, L.dyt, L.dwt, ckkp, ocp8, ohw, b > 0);
    }
    const dwt = f32(L.dwt, ckkp * ocp8), gv = f32(g, n * op.oc * ohw);
    const dw = new Float32Array(op.oc * ckk);
    for (let o = 0; o < op.oc; o++) for (let r = 0; r < ckk; r++) dw[o * ckk + r] = dwt[r * ocp8 + o];
    const db = new Float32Array(op.oc);
    for (let b = 0; b < n; b++)
      for (let o = 0; o < op.oc; o++) {
        let sum = 0;
        const base = (b * op.oc + o) * ohw;
        for (let q = 0; q < ohw; q++) sum += gv[base + q];
        db[o] += sum;
      }
    return { weight: new Tensor([op.oc, op.c, op.k, op.k], dw), bias: new Tensor([op.oc], db) };
  }
}

type View = (offset: number, length: number) => Float32Array;
type Arena = NonNullable<WasmChain['layoutFor']>;



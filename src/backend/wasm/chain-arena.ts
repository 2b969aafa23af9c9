// The linear-memory arena of a WASM chain: one block laid out for the largest batch seen (packed weights, one
// activation per op output, two gradient buffers, scratch), the optional kept im2col columns, and the packing
// of parameters into their blocks. Blocks of chains the collector takes go back to the allocator.
import { ceil4, ceil8 } from './gemm.ts';
import { guardedBytes, release, reserve, wasm } from './module.ts';
import { floatsPerImage, isWeighted, type WasmPlan, type WeightedOp } from './chain-plan.ts';

/** Byte offsets of one weighted op's packed blocks. */
export interface WeightBlocks {
  fwd: number;
  bwd: number;
  bias: number;
  dir: number;
}

/** Byte offsets of everything a pass touches, for the arena's current capacity. */
export interface ArenaLayout {
  /** act[i]: input of op i (act[0] the batch); relu works in place, so it shares its input's buffer. */
  act: number[];
  /** Per weighted op, in op order. */
  weights: WeightBlocks[];
  grad: [number, number];
  cols: number;
  tmp: number;
  dwt: number;
  dyt: number;
  xpad: number;
}

/** A weighted op's parameters as the kernels take them: row-major [out × in] (hashed: the virtual weight). */
export interface PackedWeights {
  weight: Float32Array;
  bias: Float32Array;
}

/** Most bytes of column matrices a chain keeps between forward(x, 'params') and backward (see keptColumns). */
const KEPT_COLS_BYTES = 128 * 2 ** 20;

type Block = { offset: number; bytes: number };
const blocks = new FinalizationRegistry<Block>((block) => release(block));

export class ChainArena {
  private block: Block | null = null;
  /** Images the arena is laid out for, or -1. */
  capacity = -1;
  layout: ArenaLayout | null = null;
  /**
   * Column matrices kept from forward(x, 'params') for the weight gradients: per conv op, `cap` images of
   * [colRows × np] (byte offsets, -1 for other ops). Null when they would exceed KEPT_COLS_BYTES: the backward
   * pass then rebuilds each image's columns (the same numbers, more time).
   */
  keptCols: { block: Block; cap: number; at: number[] } | null = null;
  private readonly token = {};
  private readonly colsToken = {};

  constructor(private readonly plan: WasmPlan) {}

  /**
   * Lays out (or reuses) the arena for n images; a new layout packs `weights` (per weighted op) into it.
   * Returns whether the layout is new (kept activations are then gone).
   */
  ensure(n: number, weights: readonly PackedWeights[]): boolean {
    const nP = ceil4(n);
    if (this.layout && nP <= this.capacity) return false;
    const cap = Math.max(nP, 4);
    const { ops, layouts } = this.plan;
    const sizes: number[] = [];
    const weightAt: number[] = [];
    for (const op of ops) if (isWeighted(op)) weightAt.push(sizes.push(...op.ref.sizes) - 4);
    const actSizes = layouts.map((l) => cap * floatsPerImage(l) + 64);
    let maxAct = 0,
      cols = 0,
      tmp = 0,
      dwt = 0,
      dyt = 0,
      xpad = 0;
    for (const l of layouts) maxAct = Math.max(maxAct, cap * floatsPerImage(l) + 64);
    for (const op of ops) {
      if (op.kind === 'conv2d') {
        cols = Math.max(cols, op.colRows * op.np);
        tmp = Math.max(tmp, op.ocp * op.np);
        if (op.direct) {
          tmp = Math.max(tmp, op.direct.pairs * 2 * op.direct.nq);
          xpad = Math.max(xpad, op.c * op.direct.hp * op.direct.wp + 16 + op.k + 16); // + conv2d_direct's over-read
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
    this.freeMain();
    this.block = reserve(total / 4);
    blocks.register(this, this.block, this.token);
    const at = (i: number) => this.block!.offset + offsets[i];
    const act: number[] = [];
    for (let i = 0; i < layouts.length; i++)
      act.push(i > 0 && ops[i - 1].kind === 'relu' ? act[i - 1] : at(base + i));
    const g = base + actSizes.length;
    this.layout = {
      act,
      weights: weightAt.map((i) => ({
        fwd: at(i),
        bwd: at(i + 1),
        bias: at(i + 2),
        dir: at(i + 3),
      })),
      grad: [at(g), at(g + 1)],
      cols: at(g + 2),
      tmp: at(g + 3),
      dwt: at(g + 4),
      dyt: at(g + 5),
      xpad: at(g + 6),
    };
    this.capacity = cap;
    const weighted = ops.filter(isWeighted);
    weighted.forEach((op, i) => this.pack(op, weights[i], i));
    return true;
  }

  /**
   * Packs one weighted op's parameters into its blocks (the i-th weighted op). Packing runs in WebAssembly (row
   * copies and a transpose), so swapping in a training step's new weights costs a copy, not a JS loop.
   */
  pack(op: WeightedOp, p: PackedWeights, i: number): void {
    if (!this.layout) return; // packed when the arena is laid out
    const b = this.layout.weights[i],
      sizes = op.ref.sizes;
    const { kernels, memory } = wasm();
    // Zero first: the padding rows and columns must be 0 (a reused block may hold anything, even NaN).
    new Float32Array(memory.buffer, b.fwd, sizes[0]).fill(0);
    new Float32Array(memory.buffer, b.bwd, sizes[1]).fill(0);
    new Float32Array(memory.buffer, b.dir, sizes[3]).fill(0);
    new Float32Array(memory.buffer, b.bias, sizes[2]).fill(0).set(p.bias);
    if (op.kind === 'conv2d') {
      // fwd = W as stored; bwd = its transpose
      const ckk = op.c * op.k * op.k;
      new Float32Array(memory.buffer, b.fwd, p.weight.length).set(p.weight);
      kernels.transpose(b.fwd, b.bwd, op.oc, ckk, ckk, op.oc);
      if (op.direct) {
        // couples (w[2g, r], w[2g+1, r]) for r in (ci, ky, kx) order; the missing channel of an odd count is 0
        const dir = new Float32Array(memory.buffer, b.dir, sizes[3]);
        for (let o = 0; o < op.oc; o++)
          for (let r = 0; r < ckk; r++)
            dir[((o >> 1) * ckk + r) * 2 + (o & 1)] = p.weight[o * ckk + r];
      }
    } else {
      // bwd = W with rows padded to ldIn; fwd = its transpose (ldIn × outp)
      const bwd = new Float32Array(memory.buffer, b.bwd, op.outp * op.ldIn);
      for (let o = 0; o < op.out; o++)
        bwd.set(p.weight.subarray(o * op.f, (o + 1) * op.f), o * op.ldIn);
      kernels.transpose(b.bwd, b.fwd, op.out, op.f, op.ldIn, op.outp);
    }
  }

  /** Offsets of kept column matrices for `cap` images (reserved on first use), or null when too large. */
  keptColumns(cap: number): number[] | null {
    if (this.keptCols && this.keptCols.cap >= cap) return this.keptCols.at;
    const ops = this.plan.ops;
    const perImage = ops.reduce((t, op) => t + (op.kind === 'conv2d' ? op.colRows * op.np : 0), 0);
    if (perImage === 0 || cap * perImage * 4 > KEPT_COLS_BYTES) return null;
    this.dropKeptCols();
    const sizes = ops.map((op) =>
      op.kind === 'conv2d' ? guardedBytes(cap * op.colRows * op.np) : 0,
    );
    const block = reserve(sizes.reduce((a, b) => a + b, 0) / 4);
    blocks.register(this, block, this.colsToken);
    let off = block.offset;
    const at = ops.map((op, i) => {
      if (op.kind !== 'conv2d') return -1;
      const o = off;
      off += sizes[i];
      return o;
    });
    this.keptCols = { block, cap, at };
    return at;
  }

  private dropKeptCols(): void {
    if (!this.keptCols) return;
    blocks.unregister(this.colsToken);
    release(this.keptCols.block);
    this.keptCols = null;
  }

  private freeMain(): void {
    if (!this.block) return;
    blocks.unregister(this.token);
    release(this.block);
    this.block = null;
  }

  /** Gives every block back now (the next ensure() lays out a new arena). */
  dispose(): void {
    this.dropKeptCols();
    this.freeMain();
    this.layout = null;
    this.capacity = -1;
  }
}

// The WASM chain: a network compiled from its layer description (chain-plan.ts), run entirely in WebAssembly
// memory (chain-arena.ts, chain-run.ts). It owns the hashed layers' weight expansion (a gather when their K
// real weights change) and the scatter of virtual-weight gradients back onto them. In JSC a fresh multi-MB
// Float32Array per op costs as much as the op's arithmetic, so this beats op-by-op autodiff, which stays the
// general path and the oracle (tests compare the two).
import { hashTable } from '../../hash/index.ts';
import {
  type ChainGradients,
  type ChainLayer,
  type CompiledChain,
  Tensor,
} from '../../tensor/index.ts';
import { referenceBackend } from '../cpu/index.ts';
import { ChainArena, type PackedWeights } from './chain-arena.ts';
import { isWeighted, planChain, type WasmPlan, type WeightedOp } from './chain-plan.ts';
import { outputShape, runBackward, runForward, type OpGrads } from './chain-run.ts';

/**
 * Most rows the chain runs at once. It lays out memory for the largest batch it has seen (for a CIFAR CNN about
 * 1.7 MB per image with im2col), and wasm32 memory ends at 4 GiB, so larger batches run in slices of this many
 * rows: same results (parameter gradients summed over slices, then scattered), bounded memory.
 */
export const CHAIN_ROWS = 256;

/** Rows [start, end) of a batch, as a copy. */
function rows(x: Tensor, start: number, end: number): Tensor {
  const per = x.size / x.shape[0];
  return new Tensor(
    [end - start, ...x.shape.slice(1)],
    x.data.slice(start * per, end * per) as Float32Array,
  );
}

/** Concatenates f32 tensors along the batch axis. */
function concatRows(parts: Tensor[]): Tensor {
  const data = new Float32Array(parts.reduce((n, t) => n + t.size, 0));
  let at = 0;
  for (const t of parts) {
    data.set(t.data, at);
    at += t.size;
  }
  return new Tensor([parts.reduce((n, t) => n + t.shape[0], 0), ...parts[0].shape.slice(1)], data);
}

/** a + b elementwise in float32 (the same bits as the f32 add kernel: each sum rounds once to float32). */
function addF32(a: Tensor, b: Tensor): Tensor {
  const out = new Float32Array(a.size),
    A = a.data,
    B = b.data;
  for (let i = 0; i < out.length; i++) out[i] = A[i] + B[i];
  return new Tensor(a.shape, out);
}

/** Compiles the chain, or returns null for one it does not cover (the caller runs op by op). */
export function compileChain(
  layers: readonly ChainLayer[],
  params: ReadonlyMap<string, Tensor>,
  inputShape: readonly number[],
): CompiledChain | null {
  const plan = planChain(layers, inputShape);
  if (!plan) return null;
  for (const op of plan.ops.filter(isWeighted)) {
    const w = params.get(op.ref.weight),
      b = params.get(op.ref.bias);
    if (!w || !b || w.dtype !== 'f32' || b.dtype !== 'f32') return null;
  }
  return new WasmChain(plan, params);
}

/** The [rows × cols] virtual weight a hashed op's kernels see, or the stored weight itself. */
function expand(op: WeightedOp, w: Tensor): Float32Array {
  const h = op.ref.hash;
  if (!h) return w.data as Float32Array;
  return referenceBackend.hashGather(w, hashTable(h.rows, h.cols, h.seed, h.buckets))
    .data as Float32Array;
}

class WasmChain implements CompiledChain {
  private readonly arena: ChainArena;
  private readonly weighted: WeightedOp[];
  /** Per weighted op: the stored tensors last swapped in and what the kernels take of them. */
  private readonly current: { weight: Tensor; bias: Tensor; packed: PackedWeights }[];
  private kept = -1; // batch size of the activations kept by forward(x, true), or -1
  private colsKeptFor = -1; // batch size whose column matrices forward(x, 'params') kept, or -1
  /** A batch over CHAIN_ROWS kept for backward: its slices run forward again, kept, one at a time. */
  private keptLarge: { x: Tensor; keep: true | 'params' } | null = null;

  constructor(
    private readonly plan: WasmPlan,
    params: ReadonlyMap<string, Tensor>,
  ) {
    this.arena = new ChainArena(plan);
    this.weighted = plan.ops.filter(isWeighted);
    this.current = this.weighted.map((op) => {
      const weight = params.get(op.ref.weight)!,
        bias = params.get(op.ref.bias)!;
      return {
        weight,
        bias,
        packed: { weight: expand(op, weight), bias: bias.data as Float32Array },
      };
    });
  }

  setParams(params: ReadonlyMap<string, Tensor>): void {
    this.weighted.forEach((op, i) => {
      const c = this.current[i];
      const weight = params.get(op.ref.weight)!,
        bias = params.get(op.ref.bias)!;
      if (weight === c.weight && bias === c.bias) return;
      const packed = {
        weight: weight === c.weight ? c.packed.weight : expand(op, weight),
        bias: bias.data as Float32Array,
      };
      this.current[i] = { weight, bias, packed };
      this.arena.pack(op, packed, i);
      this.kept = -1;
      this.keptLarge = null;
    });
  }

  dispose(): void {
    this.arena.dispose();
    this.kept = -1;
    this.colsKeptFor = -1;
    this.keptLarge = null;
  }

  forward(x: Tensor, keep: boolean | 'params' = false): Tensor {
    const n = x.shape[0],
      inputShape = this.plan.inputShape;
    if (x.dtype !== 'f32' || x.shape.slice(1).join() !== inputShape.join()) {
      throw new Error(
        `chain: input must be f32 [N, ${inputShape.join(', ')}], got ${x.dtype} [${x.shape.join(', ')}]`,
      );
    }
    this.keptLarge = null;
    if (n <= CHAIN_ROWS) return this.forwardRows(x, keep);
    const parts: Tensor[] = [];
    for (let s = 0; s < n; s += CHAIN_ROWS)
      parts.push(this.forwardRows(rows(x, s, Math.min(n, s + CHAIN_ROWS)), false));
    if (keep) this.keptLarge = { x, keep };
    return concatRows(parts);
  }

  /** One pass over at most CHAIN_ROWS rows. */
  private forwardRows(x: Tensor, keep: boolean | 'params'): Tensor {
    const n = x.shape[0];
    if (n === 0) return new Tensor(outputShape(this.plan, 0), new Float32Array(0));
    this.arena.ensure(
      n,
      this.current.map((c) => c.packed),
    );
    const colsKept = keep === 'params' ? this.arena.keptColumns(this.arena.capacity) : null;
    const out = runForward(this.plan, this.arena.layout!, x.data as Float32Array, n, colsKept);
    this.kept = keep ? n : -1;
    this.colsKeptFor = colsKept ? n : -1;
    return out;
  }

  backward(dy: Tensor, want: { input: boolean; params: boolean }): ChainGradients {
    const large = this.keptLarge;
    this.keptLarge = null;
    const n = large ? large.x.shape[0] : this.kept;
    if (n < 0) throw new Error('chain: backward() needs a forward(x, true) first');
    const want1 = outputShape(this.plan, n);
    if (dy.dtype !== 'f32' || dy.shape[0] !== n || dy.size !== want1.reduce((a, b) => a * b, 1)) {
      this.kept = -1;
      throw new Error(
        `chain: dy must be f32 with the forward output's shape, got ${dy.dtype} [${dy.shape.join(', ')}]`,
      );
    }
    if (!large) {
      const r = this.backwardRows(dy, want);
      return { dx: r.dx, grads: want.params ? this.named(r.grads) : null };
    }
    // Each slice runs forward again (kept) and backward with its rows of dL/dlogits; the (virtual) weight
    // gradients add up over slices before the scatter, as one pass over all rows would sum them.
    const dxs: Tensor[] = [];
    let grads: OpGrads | null = null;
    for (let s = 0; s < n; s += CHAIN_ROWS) {
      const e = Math.min(n, s + CHAIN_ROWS);
      this.forwardRows(rows(large.x, s, e), large.keep);
      const part = this.backwardRows(rows(dy, s, e), want);
      if (part.dx) dxs.push(part.dx);
      grads =
        grads === null
          ? part.grads
          : grads.map(
              (g, i) =>
                g && {
                  weight: addF32(g.weight, part.grads[i]!.weight),
                  bias: addF32(g.bias, part.grads[i]!.bias),
                },
            );
    }
    return {
      dx: dxs.length ? concatRows(dxs) : null,
      grads: want.params ? this.named(grads!) : null,
    };
  }

  /** The backward pass of the rows the last forwardRows kept. */
  private backwardRows(
    dy: Tensor,
    want: { input: boolean; params: boolean },
  ): { dx: Tensor | null; grads: OpGrads } {
    const n = this.kept;
    this.kept = -1; // activations are used once: a second backward would need a second forward
    const keptCols = this.colsKeptFor === n ? this.arena.keptCols!.at : null;
    this.colsKeptFor = -1;
    return runBackward(this.plan, this.arena.layout!, dy.data as Float32Array, n, want, keptCols);
  }

  /** Per-op gradients by parameter name; hashed layers' virtual-weight gradients scattered onto their K weights. */
  private named(opGrads: OpGrads): Map<string, Tensor> {
    const grads = new Map<string, Tensor>();
    this.plan.ops.forEach((op, i) => {
      const g = opGrads[i];
      if (!g || !isWeighted(op)) return;
      const stored = this.current[this.weighted.indexOf(op)].weight;
      const h = op.ref.hash;
      // Hashed: the kernels differentiated the virtual weight; the real weights get its scatter over buckets.
      const dw = h
        ? referenceBackend.hashScatter(g.weight, hashTable(h.rows, h.cols, h.seed, h.buckets))
        : g.weight;
      grads.set(op.ref.weight, dw.reshape(stored.shape));
      grads.set(op.ref.bias, g.bias);
    });
    return grads;
  }
}

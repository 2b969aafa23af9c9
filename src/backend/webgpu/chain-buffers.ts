/// <reference types="@webgpu/types" />
// Device buffers and bind groups of a GPU chain (gpu-chain.ts): per batch size the activations, their gradients
// and the params uniforms; per weighted layer the gradient outputs (and a hashed layer's bucket → entries CSR).
// Creation only: the caller wraps it in error scopes and owns every buffer listed in `owned`.
import { type KernelParams, kernelSpecs } from './kernel-specs.ts';
import { hashTable } from '../../hash/index.ts';
import { bucketEntries } from './bucket-entries.ts';
import { gradWeightIterations, type ChainPlan, type PlanOp } from './chain-plan.ts';
import { bytes, packParams, USAGE } from './run-kernel.ts';

export const STORAGE = USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST;

/**
 * Most loop iterations one invocation of a -grad-weight kernel may run; larger batches are reduced in chunks.
 * NOTE: llvmpipe (Mesa's software rasterizer, the CI adapter) stops any shader invocation's loops after 65535
 * iterations (LP_MAX_TGSI_LOOP_ITERATIONS) and silently returns partial sums; measured here: conv2d-grad-weight
 * on 28×28 maps is wrong from batch 64 on. Chunks also give hardware GPUs more, shorter dispatches.
 */
export const LOOP_BUDGET = 32768;

export interface ChainContext {
  device: GPUDevice;
  plan: ChainPlan;
  /** Bind group layout of a kernel whose pipeline is loaded. */
  layout(id: string): GPUBindGroupLayout;
  /** The uploaded parameter tensor of that name. */
  param(name: string): GPUBuffer;
}

export function makeBuffer(
  ctx: ChainContext,
  owned: GPUBuffer[],
  floats: number,
  usage: number = STORAGE,
): GPUBuffer {
  const b = ctx.device.createBuffer({ size: bytes(floats), usage });
  owned.push(b);
  return b;
}

function uniform(
  ctx: ChainContext,
  owned: GPUBuffer[],
  id: string,
  params: KernelParams,
): GPUBuffer {
  const packed = packParams(kernelSpecs[id], params);
  const u = makeBuffer(ctx, owned, packed.byteLength / 4, USAGE.UNIFORM | USAGE.COPY_DST);
  ctx.device.queue.writeBuffer(u, 0, packed);
  return u;
}

/** Binding 0 is the uniform, then the kernel's inputs and outputs in spec order (STYLE "Kernels"). */
function bindGroup(ctx: ChainContext, id: string, buffers: GPUBuffer[]): GPUBindGroup {
  return ctx.device.createBindGroup({
    label: id,
    layout: ctx.layout(id),
    entries: buffers.map((b, binding) => ({ binding, resource: { buffer: b } })),
  });
}

export interface ForwardBuffers {
  rows: number;
  /** One buffer per activation slot (slot 0: the input). */
  acts: GPUBuffer[];
  /** Per op: max-pool2d's argmax output (its backward routes through it). */
  argmax: (GPUBuffer | null)[];
  /** Per op: the params uniform its forward and backward kernels share. */
  uniforms: (GPUBuffer | null)[];
  forward: (GPUBindGroup | null)[];
}

export function forwardBuffers(
  ctx: ChainContext,
  rows: number,
  owned: GPUBuffer[],
): ForwardBuffers {
  const { ops, slotFloats } = ctx.plan;
  const acts = slotFloats.map((f) => makeBuffer(ctx, owned, rows * f));
  const argmax = ops.map((op) =>
    op.kernel === 'max-pool2d' ? makeBuffer(ctx, owned, rows * slotFloats[op.dst]) : null,
  );
  const uniforms = ops.map((op) =>
    op.kernel ? uniform(ctx, owned, op.kernel, op.params(rows)) : null,
  );
  const forward = ops.map((op, i) => {
    if (!op.kernel) return null;
    const params = op.weight ? [ctx.param(op.weight.name), ctx.param(op.bias!.name)] : [];
    return bindGroup(ctx, op.kernel, [
      uniforms[i]!,
      acts[op.src],
      ...params,
      acts[op.dst],
      ...(argmax[i] ? [argmax[i]!] : []),
    ]);
  });
  return { rows, acts, argmax, uniforms, forward };
}

/** A weighted layer's gradient outputs, and for hashed layers the CSR its -grad-weight kernel gathers with. */
export interface WeightGradBuffers {
  dweight: GPUBuffer;
  dbias: GPUBuffer;
  csr: GPUBuffer[];
  /** Largest bucket (entries of one real weight); 1 for dense layers. */
  maxEntries: number;
}

export function weightGradBuffers(
  ctx: ChainContext,
  op: PlanOp,
  owned: GPUBuffer[],
): WeightGradBuffers {
  const csr: GPUBuffer[] = [];
  let maxEntries = 1;
  if (op.hash) {
    const { rows, cols, seed, buckets } = op.hash;
    const { offsets, entries } = bucketEntries(
      hashTable(rows, cols, seed, buckets).bucket,
      buckets,
    );
    for (let k = 0; k < buckets; k++)
      maxEntries = Math.max(maxEntries, offsets[k + 1] - offsets[k]);
    for (const a of [offsets, entries]) {
      const b = makeBuffer(ctx, owned, a.length);
      ctx.device.queue.writeBuffer(b, 0, a);
      csr.push(b);
    }
  }
  return {
    dweight: makeBuffer(ctx, owned, op.weight!.size),
    dbias: makeBuffer(ctx, owned, op.bias!.size),
    csr,
    maxEntries,
  };
}

/**
 * How a layer's weight gradient is computed for one batch size: one dispatch over the whole batch, or (past the
 * loop budget) per chunk of rows into partial sums, stacked, then summed over chunks by dense-grad-weight with
 * dy = ones (Σ_p partial[p][l]: a column sum) — existing kernels only.
 */
export type WeightGradStep =
  | { kind: 'direct'; group: GPUBindGroup; params: KernelParams }
  | {
      kind: 'chunked';
      chunks: { start: number; rows: number; group: GPUBindGroup; params: KernelParams }[];
      x: GPUBuffer;
      dy: GPUBuffer;
      partial: [GPUBuffer, GPUBuffer];
      stacked: [GPUBuffer, GPUBuffer];
      sums: { group: GPUBindGroup; params: KernelParams }[];
    };

export interface BackwardBuffers {
  /** dL/d(activation) per slot. */
  dActs: GPUBuffer[];
  input: (GPUBindGroup | null)[];
  weight: (WeightGradStep | null)[];
}

export function backwardBuffers(
  ctx: ChainContext,
  fwd: ForwardBuffers,
  grads: ReadonlyMap<number, WeightGradBuffers>,
  owned: GPUBuffer[],
): BackwardBuffers {
  const { ops, slotFloats } = ctx.plan;
  const { acts, rows } = fwd;
  const d = slotFloats.map((f) => makeBuffer(ctx, owned, rows * f));
  const input = ops.map((op, i) => {
    if (!op.kernel) return null;
    const u = fwd.uniforms[i]!;
    const id = `${op.kernel}-grad-input`;
    if (op.kernel === 'relu') return bindGroup(ctx, id, [u, acts[op.src], d[op.dst], d[op.src]]);
    if (op.kernel === 'max-pool2d')
      return bindGroup(ctx, id, [u, d[op.dst], fwd.argmax[i]!, d[op.src]]);
    return bindGroup(ctx, id, [u, d[op.dst], ctx.param(op.weight!.name), d[op.src]]);
  });
  const weight = ops.map((op, i): WeightGradStep | null => {
    if (!op.weight) return null;
    const g = grads.get(op.layer)!;
    const id = `${op.kernel}-grad-weight`;
    const chunkRows = Math.max(1, Math.floor(LOOP_BUDGET / gradWeightIterations(op, g.maxEntries)));
    if (rows <= chunkRows)
      return {
        kind: 'direct',
        group: bindGroup(ctx, id, [
          fwd.uniforms[i]!,
          acts[op.src],
          d[op.dst],
          ...g.csr,
          g.dweight,
          g.dbias,
        ]),
        params: op.params(rows),
      };
    const [inF, outF] = [slotFloats[op.src], slotFloats[op.dst]];
    const x = makeBuffer(ctx, owned, chunkRows * inF);
    const dy = makeBuffer(ctx, owned, chunkRows * outF);
    const partial: [GPUBuffer, GPUBuffer] = [
      makeBuffer(ctx, owned, op.weight.size),
      makeBuffer(ctx, owned, op.bias!.size),
    ];
    const count = Math.ceil(rows / chunkRows);
    const stacked: [GPUBuffer, GPUBuffer] = [
      makeBuffer(ctx, owned, count * op.weight.size),
      makeBuffer(ctx, owned, count * op.bias!.size),
    ];
    const groups = new Map<number, { group: GPUBindGroup; params: KernelParams }>();
    const chunks = Array.from({ length: count }, (_, k) => {
      const n = Math.min(chunkRows, rows - k * chunkRows);
      let c = groups.get(n);
      if (!c) {
        const params = op.params(n);
        c = {
          group: bindGroup(ctx, id, [uniform(ctx, owned, id, params), x, dy, ...g.csr, ...partial]),
          params,
        };
        groups.set(n, c);
      }
      return { start: k * chunkRows, rows: n, ...c };
    });
    const ones = makeBuffer(ctx, owned, count);
    ctx.device.queue.writeBuffer(ones, 0, new Float32Array(count).fill(1));
    const scratch = makeBuffer(ctx, owned, 1); // column sums' unused Σ dy
    const sums = (
      [
        [stacked[0], op.weight.size, g.dweight],
        [stacked[1], op.bias!.size, g.dbias],
      ] as const
    ).map(([src, inDim, out]) => {
      const params = { batch: count, inDim, outDim: 1 };
      return {
        group: bindGroup(ctx, 'dense-grad-weight', [
          uniform(ctx, owned, 'dense-grad-weight', params),
          src,
          ones,
          out,
          scratch,
        ]),
        params,
      };
    });
    return { kind: 'chunked', chunks, x, dy, partial, stacked, sums };
  });
  return { dActs: d, input, weight };
}

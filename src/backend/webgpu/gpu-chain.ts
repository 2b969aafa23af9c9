/// <reference types="@webgpu/types" />
// A whole Sequential network on a WebGPU device: weights uploaded once (hashed layers only their K real weights:
// the shaders rebuild virtual weights from the hash), activations in per-batch-size buffers that never leave the
// device, every layer's kernels in one submit, one readback per forward or backward.
import { ChainFault, type AsyncChain, type ChainLayer, Tensor } from '../../tensor/index.ts';
import {
  backwardBuffers,
  forwardBuffers,
  STORAGE,
  weightGradBuffers,
  type BackwardBuffers,
  type ChainContext,
  type ForwardBuffers,
  type WeightGradBuffers,
} from './chain-buffers.ts';
import { planChain, type ChainPlan } from './chain-plan.ts';
import { kernelSpecs, type KernelParams } from './kernel-specs.ts';
import { bytes, dispatchGrid, getPipeline, MAP_READ, USAGE } from './run-kernel.ts';

export interface GpuChainOptions {
  /** Device bytes the activations (and their gradients) of one pass may take; larger batches run in chunks. */
  activationBudget?: number;
}

/** A batch size's buffers; `owned` lists every buffer to free with it. */
interface Batch extends ForwardBuffers {
  backward: BackwardBuffers | null;
  owned: GPUBuffer[];
}

/**
 * Compiles `layers` for `device`, or null where a layer has no kernel (the caller runs the CPU path). The
 * parameter tensors are uploaded now; `setParams` swaps new ones in.
 */
export function compileGpuChain(
  device: GPUDevice,
  layers: readonly ChainLayer[],
  params: ReadonlyMap<string, Tensor>,
  inputShape: readonly number[],
  options: GpuChainOptions = {},
): GpuChain | null {
  const plan = planChain(layers, inputShape);
  if (!plan) return null;
  for (const op of plan.ops)
    for (const t of [op.weight, op.bias]) if (t && params.get(t.name)?.size !== t.size) return null;
  return new GpuChain(device, plan, params, options);
}

/** Opens compute passes on demand between buffer copies (copies cannot sit inside a pass). */
class Recorder {
  private pass: GPUComputePassEncoder | null = null;
  constructor(
    private readonly chain: GpuChain,
    readonly encoder: GPUCommandEncoder,
  ) {}
  dispatch(id: string, group: GPUBindGroup, params: KernelParams): void {
    const spec = kernelSpecs[id];
    const n = spec.invocations(params);
    if (n === 0) return;
    const [x, y] = dispatchGrid(
      n,
      spec.workgroupSize,
      this.chain.device.limits.maxComputeWorkgroupsPerDimension,
    );
    this.pass ??= this.encoder.beginComputePass();
    this.pass.setPipeline(this.chain.pipeline(id));
    this.pass.setBindGroup(0, group);
    this.pass.dispatchWorkgroups(x, y);
  }
  copy(src: GPUBuffer, srcFloat: number, dst: GPUBuffer, dstFloat: number, floats: number): void {
    this.end();
    if (floats > 0)
      this.encoder.copyBufferToBuffer(src, srcFloat * 4, dst, dstFloat * 4, floats * 4);
  }
  end(): void {
    this.pass?.end();
    this.pass = null;
  }
}

export class GpuChain implements AsyncChain {
  readonly plan: ChainPlan;
  /** Largest batch one pass holds (device binding limits and the activation budget). */
  readonly maxRows: number;
  private readonly params = new Map<
    string,
    { buffer: GPUBuffer; size: number; tensor: Tensor | null }
  >();
  private readonly grads = new Map<number, WeightGradBuffers>();
  private readonly gradsOwned: GPUBuffer[] = [];
  private readonly pipelines = new Map<
    string,
    { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout }
  >();
  private readonly batches = new Map<number, Batch>();
  private readonly ctx: ChainContext;
  private kept: Batch | null = null;
  private fault: ChainFault | null = null;
  private tail: Promise<unknown>;
  private readonly lost: Promise<ChainFault>;

  constructor(
    readonly device: GPUDevice,
    plan: ChainPlan,
    params: ReadonlyMap<string, Tensor>,
    options: GpuChainOptions,
  ) {
    this.plan = plan;
    this.ctx = {
      device,
      plan,
      layout: (id) => this.pipelines.get(id)!.layout,
      param: (name) => this.params.get(name)!.buffer,
    };
    this.lost = device.lost.then((info) => {
      this.die(
        new ChainFault(
          `WebGPU device lost (${info.reason}): ${info.message || 'no message'}`,
          'device-lost',
        ),
      );
      return this.fault!;
    });
    const perRow = plan.slotFloats.reduce((a, b) => a + b, 0) * 8; // activations and their gradients, f32
    const binding = Math.min(
      device.limits.maxStorageBufferBindingSize,
      device.limits.maxBufferSize,
    );
    this.maxRows = Math.max(
      1,
      Math.min(
        Math.floor(binding / (4 * Math.max(...plan.slotFloats))),
        Math.floor((options.activationBudget ?? 256 * 2 ** 20) / perRow),
      ),
    );
    device.pushErrorScope('out-of-memory');
    for (const op of plan.ops)
      for (const t of [op.weight, op.bias])
        if (t)
          this.params.set(t.name, {
            buffer: device.createBuffer({ label: t.name, size: bytes(t.size), usage: STORAGE }),
            size: t.size,
            tensor: null,
          });
    const oom = device
      .popErrorScope()
      .then(
        (e) =>
          e &&
          this.die(
            new ChainFault(`out of GPU memory uploading weights: ${e.message}`, 'out-of-memory'),
          ),
      );
    this.setParams(params);
    this.tail = Promise.all([
      this.loadPipelines(plan.ops.flatMap((op) => (op.kernel ? [op.kernel] : []))),
      this.guard(oom),
    ]);
    this.tail.catch(() => undefined);
  }

  setParams(params: ReadonlyMap<string, Tensor>): void {
    if (this.fault) return; // a dead chain rejects its next call: nothing to upload to
    for (const [name, p] of this.params) {
      const t = params.get(name);
      if (!t) throw new Error(`GPU chain: missing parameter tensor '${name}'`);
      if (t === p.tensor) continue;
      if (t.size !== p.size)
        throw new Error(
          `GPU chain: parameter '${name}' has ${t.size} values, the chain holds ${p.size}`,
        );
      this.device.queue.writeBuffer(
        p.buffer,
        0,
        t.data instanceof Float32Array ? t.data : Float32Array.from(t.data),
      );
      p.tensor = t;
    }
  }

  forward(x: Tensor, keep = false): Promise<Tensor> {
    return this.serial(async () => {
      const { slotFloats, outputs } = this.plan;
      const rows = x.shape[0];
      const per = slotFloats[0];
      if (x.size !== rows * per)
        throw new Error(`GPU chain: input of ${x.size} values is not ${rows} rows of ${per}`);
      if (rows === 0) return new Tensor([0, outputs], new Float32Array(0));
      if (keep && rows > this.maxRows)
        throw new ChainFault(
          `GPU chain: batch ${rows} exceeds ${this.maxRows} rows for a kept forward`,
          'too-large',
        );
      this.kept = null;
      await this.loadPipelines(this.plan.ops.flatMap((op) => (op.kernel ? [op.kernel] : [])));
      const data = x.data instanceof Float32Array ? x.data : Float32Array.from(x.data);
      const last = slotFloats.length - 1;
      const chunks: { batch: Batch; start: number }[] = [];
      for (let start = 0; start < rows; start += this.maxRows)
        chunks.push({ batch: await this.batch(Math.min(this.maxRows, rows - start)), start });
      const staging = this.staging(rows * outputs);
      // One submit per chunk: queue writes and submits run in order, so each chunk's input lands after the
      // previous chunk has run. Every chunk's logits go to one staging buffer: one readback.
      const checks = chunks.map(({ batch, start }) =>
        this.record((r) => {
          this.device.queue.writeBuffer(batch.acts[0], 0, data, start * per, batch.rows * per);
          this.plan.ops.forEach(
            (op, i) => op.kernel && r.dispatch(op.kernel, batch.forward[i]!, op.params(batch.rows)),
          );
          r.copy(batch.acts[last], 0, staging, start * outputs, batch.rows * outputs);
        }),
      );
      const [logits] = await this.read(staging, [rows * outputs], checks);
      if (keep) this.kept = chunks[0].batch;
      return new Tensor([rows, outputs], logits);
    });
  }

  backward(
    dy: Tensor,
    want: { input: boolean; params: boolean },
  ): Promise<{ dx: Tensor | null; grads: Map<string, Tensor> | null }> {
    return this.serial(async () => {
      const batch = this.kept;
      if (!batch) throw new Error('GPU chain: backward() needs a forward(x, true) before it');
      this.kept = null;
      const { ops, slotFloats, outputs } = this.plan;
      if (dy.size !== batch.rows * outputs)
        throw new Error(
          `GPU chain: dL/dlogits has ${dy.size} values, expected ${batch.rows}×${outputs}`,
        );
      const ids = ops.flatMap((op) =>
        op.kernel
          ? [`${op.kernel}-grad-input`, ...(op.weight ? [`${op.kernel}-grad-weight`] : [])]
          : [],
      );
      await this.loadPipelines([...ids, 'dense-grad-weight']);
      const bw = await this.backwardBuffers(batch);
      const weighted = ops.filter((op) => op.weight);
      const copies: { buffer: GPUBuffer; floats: number }[] = [];
      if (want.input) copies.push({ buffer: bw.dActs[0], floats: batch.rows * slotFloats[0] });
      if (want.params)
        for (const op of weighted) {
          const g = this.grads.get(op.layer)!;
          copies.push(
            { buffer: g.dweight, floats: op.weight!.size },
            { buffer: g.dbias, floats: op.bias!.size },
          );
        }
      const staging = this.staging(copies.reduce((a, c) => a + c.floats, 0));
      const check = this.record((r) => {
        this.device.queue.writeBuffer(
          bw.dActs[slotFloats.length - 1],
          0,
          dy.data instanceof Float32Array ? dy.data : Float32Array.from(dy.data),
        );
        // Without the input gradient nothing below the first weighted op needs dL/d(activation).
        let first = ops.findIndex((op) => op.weight);
        if (first < 0) first = ops.length;
        for (let i = ops.length - 1; i >= 0 && (want.input || i >= first); i--) {
          const op = ops[i];
          if (!op.kernel) continue;
          const step = bw.weight[i];
          if (step && want.params) {
            const id = `${op.kernel}-grad-weight`;
            if (step.kind === 'direct') r.dispatch(id, step.group, step.params);
            else {
              const [inF, outF] = [slotFloats[op.src], slotFloats[op.dst]];
              step.chunks.forEach((c, k) => {
                r.copy(batch.acts[op.src], c.start * inF, step.x, 0, c.rows * inF);
                r.copy(bw.dActs[op.dst], c.start * outF, step.dy, 0, c.rows * outF);
                r.dispatch(id, c.group, c.params);
                r.copy(step.partial[0], 0, step.stacked[0], k * op.weight!.size, op.weight!.size);
                r.copy(step.partial[1], 0, step.stacked[1], k * op.bias!.size, op.bias!.size);
              });
              for (const s of step.sums) r.dispatch('dense-grad-weight', s.group, s.params);
            }
          }
          if (want.input || i > first)
            r.dispatch(`${op.kernel}-grad-input`, bw.input[i]!, op.params(batch.rows));
        }
        let offset = 0;
        for (const c of copies) {
          r.copy(c.buffer, 0, staging, offset, c.floats);
          offset += c.floats;
        }
      });
      const out = await this.read(
        staging,
        copies.map((c) => c.floats),
        [check],
      );
      const dx = want.input
        ? new Tensor([batch.rows, ...this.plan.inputShape], out.shift()!)
        : null;
      let grads: Map<string, Tensor> | null = null;
      if (want.params) {
        grads = new Map();
        for (const op of weighted) {
          grads.set(
            op.weight!.name,
            new Tensor(this.params.get(op.weight!.name)!.tensor!.shape, out.shift()!),
          );
          grads.set(op.bias!.name, new Tensor([op.bias!.size], out.shift()!));
        }
      }
      return { dx, grads };
    });
  }

  dispose(): void {
    this.die(new ChainFault('GPU chain disposed', 'disposed'));
  }

  /** A loaded kernel's pipeline (used while recording). */
  pipeline(id: string): GPUComputePipeline {
    return this.pipelines.get(id)!.pipeline;
  }

  // --- internals -----------------------------------------------------------------------------------------

  /** Runs calls one after another (they share activation buffers); a dead chain rejects with its fault. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = async () => {
      if (this.fault) throw this.fault;
      try {
        return await fn();
      } catch (e) {
        // A lost device surfaces as whatever failed first (a rejected map, an invalid object): report the loss.
        throw this.fault ?? e;
      }
    };
    const r = this.tail.then(run, run);
    this.tail = r.catch(() => undefined);
    return r;
  }

  private die(fault: ChainFault): void {
    this.fault ??= fault;
    this.kept = null;
    for (const b of this.batches.values()) for (const buf of b.owned) buf.destroy();
    this.batches.clear();
    for (const p of this.params.values()) p.buffer.destroy();
    for (const buf of this.gradsOwned.splice(0)) buf.destroy();
    this.grads.clear();
  }

  private async loadPipelines(ids: readonly string[]): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !this.pipelines.has(id));
    const got = await this.guard(
      Promise.all(
        missing.map((id) =>
          getPipeline(this.device, kernelSpecs[id], { WG: kernelSpecs[id].workgroupSize }),
        ),
      ),
    );
    missing.forEach((id, k) => this.pipelines.set(id, got[k]));
  }

  /** Buffers made inside error scopes: out of memory becomes a ChainFault, a validation error an Error; nothing leaks. */
  private async allocate<T>(
    what: string,
    owned: GPUBuffer[],
    make: (owned: GPUBuffer[]) => T,
  ): Promise<T> {
    const mine: GPUBuffer[] = [];
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    let result: T | undefined;
    let thrown: unknown = null;
    try {
      result = make(mine);
    } catch (e) {
      thrown = e;
    }
    const invalid = await this.guard(this.device.popErrorScope());
    const oom = await this.guard(this.device.popErrorScope());
    if (thrown || invalid || oom) {
      for (const b of mine) b.destroy();
      if (oom)
        throw new ChainFault(
          `out of GPU memory allocating ${what}: ${oom.message}`,
          'out-of-memory',
        );
      throw thrown ?? new Error(`GPU chain: allocating ${what}: ${invalid!.message}`);
    }
    owned.push(...mine);
    return result!;
  }

  /** The buffers of a batch size (cached; past three sizes the least recently used one is freed). */
  private async batch(rows: number): Promise<Batch> {
    const hit = this.batches.get(rows);
    if (hit) {
      this.batches.delete(rows); // re-insert: Map order is the recency order
      this.batches.set(rows, hit);
      return hit;
    }
    const owned: GPUBuffer[] = [];
    const fwd = await this.allocate(`activations for a batch of ${rows}`, owned, (mine) =>
      forwardBuffers(this.ctx, rows, mine),
    );
    // Never free the full-chunk size (a chunked forward is using it) or the kept batch.
    for (const [oldRows, old] of this.batches) {
      if (this.batches.size < 3) break;
      if (old === this.kept || oldRows === this.maxRows) continue;
      for (const b of old.owned) b.destroy();
      this.batches.delete(oldRows);
    }
    const batch: Batch = { ...fwd, backward: null, owned };
    this.batches.set(rows, batch);
    return batch;
  }

  private async backwardBuffers(batch: Batch): Promise<BackwardBuffers> {
    for (const op of this.plan.ops) {
      if (op.weight && !this.grads.has(op.layer))
        this.grads.set(
          op.layer,
          await this.allocate(`weight gradients of layer ${op.layer}`, this.gradsOwned, (mine) =>
            weightGradBuffers(this.ctx, op, mine),
          ),
        );
    }
    batch.backward ??= await this.allocate(
      `gradients for a batch of ${batch.rows}`,
      batch.owned,
      (mine) => backwardBuffers(this.ctx, batch, this.grads, mine),
    );
    return batch.backward;
  }

  private staging(floats: number): GPUBuffer {
    return this.device.createBuffer({
      label: 'chain readback',
      size: bytes(floats),
      usage: USAGE.MAP_READ | USAGE.COPY_DST,
    });
  }

  /**
   * Records with `fill` into one command buffer and submits it, inside a validation scope whose outcome
   * (checked by `read`) turns a malformed command into an Error instead of silently wrong numbers.
   */
  private record(fill: (r: Recorder) => void): Promise<GPUError | null> {
    this.device.pushErrorScope('validation');
    let thrown: unknown = null;
    try {
      const r = new Recorder(this, this.device.createCommandEncoder({ label: 'chain' }));
      fill(r);
      r.end();
      this.device.queue.submit([r.encoder.finish()]);
    } catch (e) {
      thrown = e;
    }
    const check = this.device.popErrorScope(); // pop even after a throw: scopes never leak
    if (thrown) {
      check.catch(() => undefined);
      throw thrown;
    }
    return check;
  }

  /** Maps `staging` once (after the submits' validation `checks`) and splits it into arrays of the given lengths. */
  private async read(
    staging: GPUBuffer,
    lengths: readonly number[],
    checks: Promise<GPUError | null>[],
  ): Promise<Float32Array[]> {
    for (const c of checks) {
      const e = await this.guard(c);
      if (e) {
        staging.destroy();
        throw new Error(`GPU chain: ${e.message}`);
      }
    }
    try {
      await this.guard(staging.mapAsync(MAP_READ));
      const all = new Float32Array(staging.getMappedRange());
      const out: Float32Array[] = [];
      let offset = 0;
      for (const n of lengths) {
        out.push(all.slice(offset, offset + n));
        offset += n;
      }
      staging.unmap();
      return out;
    } catch (e) {
      if (e instanceof ChainFault) throw e;
      // mapAsync rejects (AbortError) when the device goes away before the copy completes.
      throw (
        this.fault ??
        new ChainFault(`GPU chain: readback failed: ${(e as Error).message}`, 'device-lost')
      );
    } finally {
      staging.destroy();
    }
  }

  /** `p`, unless the device is lost first: then the loss (nothing waits on a dead device). */
  private async guard<T>(p: Promise<T>): Promise<T> {
    const r = await Promise.race([
      p.then(
        (v) => ({ v }),
        (e: unknown) => ({ e }),
      ),
      this.lost.then((fault) => ({ fault })),
    ]);
    if ('fault' in r) {
      this.die(r.fault);
      throw r.fault;
    }
    if ('e' in r) throw r.e;
    return r.v;
  }
}

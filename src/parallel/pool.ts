// A pool of workers that splits batches across cores: inference (forward), data-parallel training (loss and
// parameter gradients per shard, combined here) and attacks (per-example input gradients). Sized to the
// machine by default; close() terminates the workers. Web Workers (Bun, Deno, browsers) or Node's worker threads.
import { startWorker, type WorkerHandle } from '../runtime/index.ts';
import { Tensor } from '../tensor/index.ts';
import type {
  AdversarialSpec,
  AdversarialStep,
  BatchKey,
  Sequential,
  StepGradients,
} from '../nn/index.ts';
import type { ModelPayload, Reply, Request, Task, TaskResult } from './protocol.ts';
import type { CertifyInput, CertifyResult } from './certify-task.ts';
import type { DefendedInput, DefendedResult, RandomDraw } from './defended-task.ts';

export interface PoolOptions {
  /** Number of workers; default: the machine's logical cores (navigator.hardwareConcurrency). */
  size?: number;
  /** Worker script URL (tests and bundlers may override); default: defaultWorkerUrl(). */
  workerUrl?: string | URL;
}

/**
 * worker.ts beside this file; in the published package this file is bundled into dist/node/ beside the
 * bundled worker.js (scripts/build-package.ts), so the name follows this module's own extension.
 */
export function defaultWorkerUrl(): URL {
  return new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);
}

/** Logical cores, or 1 where the runtime does not say. */
export function machineThreads(): number {
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator
    ?.hardwareConcurrency;
  return typeof n === 'number' && n >= 1 ? Math.floor(n) : 1;
}

/** [start, end) row ranges of n rows over k shards, as equal as possible, empty shards dropped. */
export function shardRanges(n: number, k: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < k; i++) {
    const a = Math.floor((i * n) / k),
      b = Math.floor(((i + 1) * n) / k);
    if (b > a) out.push([a, b]);
  }
  return out;
}

interface Pending {
  resolve: (r: TaskResult) => void;
  reject: (e: Error) => void;
  /** Where a defendedForward task's early fingerprints go. */
  early?: (fingerprints: Uint32Array[]) => void;
}

function payloadOf(model: Sequential): ModelPayload {
  return { inputShape: model.inputShape, layers: model.layers, params: paramsOf(model.params) };
}

function paramsOf(params: ReadonlyMap<string, Tensor>): ModelPayload['params'] {
  const out: ModelPayload['params'] = {};
  for (const [name, t] of params) out[name] = { shape: t.shape, data: t.data as Float32Array };
  return out;
}

export class WorkerPool {
  readonly size: number;
  private readonly workers: WorkerHandle[];
  private readonly pending = new Map<number, Pending>();
  private readonly loaded = new WeakMap<
    Sequential,
    { id: string; params: ReadonlyMap<string, Tensor>; version: Map<string, Tensor> }
  >();
  private nextId = 1;
  private nextModel = 1;
  private closed = false;
  private failure: Error | null = null;

  constructor(options: PoolOptions = {}) {
    const size = options.size ?? machineThreads();
    if (!Number.isInteger(size) || size < 1 || size > 256)
      throw new Error(`WorkerPool: size must be an integer in [1, 256], got ${size}`);
    this.size = size;
    const url = options.workerUrl ?? defaultWorkerUrl();
    this.workers = Array.from({ length: size }, () => {
      const w = startWorker(url);
      w.onmessage = (e) => this.settle(e.data as Reply);
      // A worker that dies takes the pool with it: every waiting call fails with the reason, none hangs.
      w.onerror = (e) => {
        e.preventDefault?.();
        this.fail(new Error(`WorkerPool: a worker failed: ${e.message || 'unknown error'}`));
      };
      return w;
    });
  }

  private settle(reply: Reply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    if ('early' in reply) {
      p.early?.(reply.early);
      return;
    }
    this.pending.delete(reply.id);
    if ('error' in reply) p.reject(new Error(reply.error));
    else p.resolve(reply.result);
  }

  private fail(err: Error): void {
    this.failure = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private send(
    worker: number,
    task: Task,
    transfer: Transferable[] = [],
    early?: Pending['early'],
  ): Promise<TaskResult> {
    if (this.closed) return Promise.reject(new Error('WorkerPool: closed'));
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, early });
      this.workers[worker].postMessage({ id, task } satisfies Request, transfer);
    });
  }

  /**
   * Loads the model into every worker on first use. Parameters that changed since (by identity: a training
   * step replaces them) are re-sent: broadcast and awaited here, or, with `piggyback`, returned for the
   * caller to attach to the task it sends every worker anyway, which saves a round trip per training step.
   */
  private async ensure(
    model: Sequential,
    piggyback = false,
  ): Promise<{ id: string; params: ModelPayload['params'] | null }> {
    let entry = this.loaded.get(model);
    if (!entry) {
      const id = `m${this.nextModel++}`;
      const payload = payloadOf(model);
      await Promise.all(
        this.workers.map((_, i) => this.send(i, { kind: 'load', model: id, payload })),
      );
      entry = { id, params: model.params, version: new Map(model.params) };
      this.loaded.set(model, entry);
      return { id, params: null };
    }
    const stale =
      [...model.params].some(([n, t]) => entry!.version.get(n) !== t) ||
      model.params.size !== entry.version.size;
    if (!stale) return { id: entry.id, params: null };
    const params = paramsOf(model.params);
    entry.version = new Map(model.params);
    if (piggyback) return { id: entry.id, params };
    await Promise.all(
      this.workers.map((_, i) => this.send(i, { kind: 'params', model: entry!.id, params })),
    );
    return { id: entry.id, params: null };
  }

  /**
   * Runs one task per shard of the batch (rows of x, and of y when given), in parallel. Every worker gets a
   * task (an empty shard when the batch is smaller than the pool) so changed parameters reach them all.
   */
  private async sharded(
    model: Sequential,
    x: Tensor,
    y: Tensor | null,
    kind: 'forward' | 'lossGrad' | 'inputGrad' | 'advLossGrad',
    adversarial?: { spec: AdversarialSpec; eps: number; key: Omit<BatchKey, 'rowOffset'> },
  ) {
    const { id, params } = await this.ensure(model, true);
    const n = x.shape[0];
    const per = x.size / Math.max(n, 1);
    const all = shardRanges(n, this.size);
    // Without new parameters to deliver, empty shards are not sent at all.
    const ranges = params
      ? (Array.from({ length: this.size }, (_, i) => all[i] ?? [n, n]) as [number, number][])
      : all;
    const results = await Promise.all(
      ranges.map(([a, b], i) => {
        const xs = (x.data as Float32Array).slice(a * per, b * per);
        const ys = y ? (y.data as Float32Array).slice(a, b) : new Float32Array(0);
        const task: Task =
          kind === 'forward'
            ? { kind, model: id, x: xs, n: b - a, params }
            : kind === 'advLossGrad'
              ? {
                  kind,
                  model: id,
                  x: xs,
                  y: ys,
                  n: b - a,
                  params,
                  spec: adversarial!.spec,
                  eps: adversarial!.eps,
                  key: { ...adversarial!.key, rowOffset: a },
                }
              : { kind, model: id, x: xs, y: ys, n: b - a, params };
        return this.send(i, task, [xs.buffer]);
      }),
    );
    // Results of empty shards carry nothing; callers see only the shards that hold rows.
    const keep = ranges.map(([a, b]) => b > a);
    return { ranges: ranges.filter((_, i) => keep[i]), results: results.filter((_, i) => keep[i]) };
  }

  /** Logits for a batch, computed across the workers (no autodiff). */
  async forward(model: Sequential, x: Tensor): Promise<Tensor> {
    checkBatch(model, x);
    const { ranges, results } = await this.sharded(model, x, null, 'forward');
    const classes = ranges.length
      ? (results[0] as { logits: Float32Array }).logits.length / (ranges[0][1] - ranges[0][0])
      : 0;
    const out = new Float32Array(x.shape[0] * classes);
    results.forEach((r, i) =>
      out.set((r as { logits: Float32Array }).logits, ranges[i][0] * classes),
    );
    return new Tensor([x.shape[0], classes], out);
  }

  /**
   * Mean cross-entropy over the batch and its gradient for every parameter: each worker differentiates the
   * mean over its shard; shard results are combined weighted by shard size (= the full-batch mean).
   */
  async lossAndGradients(model: Sequential, x: Tensor, y: Tensor): Promise<StepGradients> {
    checkBatch(model, x, y);
    return this.combine(model, x.shape[0], await this.sharded(model, x, y, 'lossGrad'));
  }

  /**
   * An adversarial training step (src/nn/adversarial.ts) across the workers: each makes its shard's adversarial
   * examples (random starts keyed by batch row, so the examples do not depend on the pool size) and returns its
   * shard's mean loss gradients, combined as lossAndGradients does.
   */
  async adversarialLossAndGradients(
    ...[model, x, y, spec, eps, key]: AdversarialStep<Omit<BatchKey, 'rowOffset'>>
  ): Promise<StepGradients> {
    checkBatch(model, x, y);
    return this.combine(
      model,
      x.shape[0],
      await this.sharded(model, x, y, 'advLossGrad', { spec, eps, key }),
    );
  }

  /** Shard means of loss and gradients, weighted by shard size: the full-batch mean, summed in shard order. */
  private combine(
    model: Sequential,
    n: number,
    { ranges, results }: { ranges: [number, number][]; results: TaskResult[] },
  ) {
    let loss = 0,
      correct = 0;
    const grads = new Map<string, Tensor>();
    results.forEach((r, i) => {
      const {
        loss: l,
        correct: c,
        grads: g,
      } = r as Extract<TaskResult, { kind: 'lossGrad' | 'advLossGrad' }>;
      const w = (ranges[i][1] - ranges[i][0]) / n;
      loss += w * l;
      correct += c;
      for (const [name, data] of Object.entries(g)) {
        const acc = grads.get(name)?.data as Float32Array | undefined;
        if (!acc) {
          for (let j = 0; j < data.length; j++) data[j] *= w;
          grads.set(name, new Tensor(model.params.get(name)!.shape, data));
        } else for (let j = 0; j < data.length; j++) acc[j] += w * data[j];
      }
    });
    return { loss, correct, grads };
  }

  /** Per-example input gradient of the cross-entropy (the attack step's direction), plus logits and summed loss. */
  async inputGradients(
    model: Sequential,
    x: Tensor,
    y: Tensor,
  ): Promise<{ loss: number; grad: Tensor; logits: Tensor }> {
    checkBatch(model, x, y);
    const { ranges, results } = await this.sharded(model, x, y, 'inputGrad');
    const n = x.shape[0],
      per = x.size / Math.max(n, 1);
    const grad = new Float32Array(x.size);
    let loss = 0,
      classes = 0;
    const parts = results as Extract<TaskResult, { kind: 'inputGrad' }>[];
    if (parts.length) classes = parts[0].logits.length / (ranges[0][1] - ranges[0][0]);
    const logits = new Float32Array(n * classes);
    parts.forEach((r, i) => {
      grad.set(r.grad, ranges[i][0] * per);
      logits.set(r.logits, ranges[i][0] * classes);
      loss += r.loss;
    });
    return { loss, grad: new Tensor(x.shape, grad), logits: new Tensor([n, classes], logits) };
  }

  /**
   * One serving request, whole, on worker `worker` (the caller picks it, e.g. the least busy): the model's
   * defended logits, or a client error for an undecodable image. The input's buffer is transferred. With
   * `early`, fingerprints the input asks for reach it as soon as the worker has them (before the model runs)
   * and the result carries none.
   */
  async defendedForward(
    model: Sequential,
    input: DefendedInput,
    random: RandomDraw | null,
    worker = 0,
    early?: (fingerprints: Uint32Array[]) => void,
  ): Promise<DefendedResult> {
    if (!Number.isInteger(worker) || worker < 0 || worker >= this.size)
      throw new Error(`WorkerPool: no worker ${worker}`);
    const { id } = await this.ensure(model);
    const data = 'x' in input ? input.x : input.image;
    const transfer =
      data.byteOffset === 0 && data.byteLength === data.buffer.byteLength
        ? [data.buffer as ArrayBuffer]
        : [];
    return (await this.send(
      worker,
      { kind: 'defendedForward', model: id, input, random, early: early !== undefined },
      transfer,
      early,
    )) as DefendedResult;
  }

  /**
   * Certificates of a chunk of examples on worker `worker` (the caller keeps every worker busy with chunks).
   * The rows' buffer is transferred.
   */
  async certify(model: Sequential, input: CertifyInput, worker = 0): Promise<CertifyResult> {
    if (!Number.isInteger(worker) || worker < 0 || worker >= this.size)
      throw new Error(`WorkerPool: no worker ${worker}`);
    const { id } = await this.ensure(model);
    return (await this.send(worker, { kind: 'certify', model: id, input }, [
      input.x.buffer as ArrayBuffer,
    ])) as CertifyResult;
  }

  /** Frees a model's copies in the workers. */
  async release(model: Sequential): Promise<void> {
    const entry = this.loaded.get(model);
    if (!entry) return;
    this.loaded.delete(model);
    await Promise.all(
      this.workers.map((_, i) => this.send(i, { kind: 'unload', model: entry.id })),
    );
  }

  /** Terminates the workers; calls in flight fail with 'WorkerPool: closed'. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.workers) w.terminate();
    this.fail(new Error('WorkerPool: closed'));
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function checkBatch(model: Sequential, x: Tensor, y?: Tensor): void {
  const want = model.inputShape.join('×');
  if (
    x.dtype !== 'f32' ||
    x.rank !== model.inputShape.length + 1 ||
    x.shape.slice(1).join('×') !== want
  ) {
    throw new Error(
      `WorkerPool: input must be f32 [N, ${model.inputShape.join(', ')}], got ${x.dtype} [${x.shape.join(', ')}]`,
    );
  }
  if (y && (y.rank !== 1 || y.shape[0] !== x.shape[0]))
    throw new Error(`WorkerPool: labels must be [${x.shape[0]}], got [${y.shape.join(', ')}]`);
}

// hashguard's side of the bench workloads, as its users run them: inference, training (trainEpoch, Adam), PGD and
// PGD adversarial training, in this thread (threads 1, as `--threads 1`) or on a WorkerPool of `threads` workers
// (as `train --threads N` and the server do). Every call returns the wall seconds of its timed iterations.
import { noGrad, ops } from '../../src/autodiff/index.ts';
import { adam, Sequential } from '../../src/nn/index.ts';
import { trainEpoch, type GradientWorkers } from '../../src/nn/train.ts';
import type { AdversarialSpec } from '../../src/nn/adversarial.ts';
import { WorkerPool } from '../../src/parallel/index.ts';
import { Tensor } from '../../src/tensor/index.ts';

/** Images and labels the workloads draw from (data's Dataset satisfies it). */
export interface Images {
  images: Float32Array;
  labels: Uint8Array;
  shape: readonly [number, number, number];
  count: number;
}

/** What one measurement runs: `warmup` untimed iterations, then `iters` timed ones. */
export interface Reps {
  threads: number;
  batch: number;
  iters: number;
  warmup: number;
}

/** The first `n` rows as a batch x [n, C, H, W] and labels y [n]. */
export function firstRows(d: Images, n: number): { x: Tensor; y: Tensor } {
  if (n > d.count) throw new RangeError(`bench data: ${n} rows asked of ${d.count}`);
  const per = d.shape[0] * d.shape[1] * d.shape[2];
  return {
    x: new Tensor([n, ...d.shape], d.images.slice(0, n * per)),
    y: new Tensor([n], Float32Array.from(d.labels.subarray(0, n))),
  };
}

/** A copy of the network with its own parameter map (training replaces tensors; the original stays as loaded). */
const clone = (m: Sequential) => new Sequential(m.inputShape, m.layers, new Map(m.params));

async function timed(iters: number, warmup: number, fn: () => unknown): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    await fn();
    out.push((performance.now() - t0) / 1000);
  }
  return out;
}

/** Runs workloads; holds one worker pool per thread count (idle workers wait on messages, they do not spin). */
export class HashguardRunner {
  private readonly pools = new Map<number, WorkerPool>();

  /** The pool of `threads` workers, or undefined for 1 (this thread). */
  pool(threads: number): WorkerPool | undefined {
    if (threads <= 1) return undefined;
    let p = this.pools.get(threads);
    if (!p) this.pools.set(threads, (p = new WorkerPool({ size: threads })));
    return p;
  }

  /** Logits of the first `batch` rows, `iters` times. */
  infer(net: Sequential, d: Images, r: Reps): Promise<number[]> {
    const { x } = firstRows(d, r.batch);
    const pool = this.pool(r.threads);
    return timed(r.iters, r.warmup, () =>
      pool ? pool.forward(net, x) : noGrad(() => net.forward(x)),
    );
  }

  /**
   * Training steps (Adam, constant lr, mean cross-entropy; adversarial: the spec's examples first) on a fresh copy
   * of the weights, over rows in trainEpoch's seeded order; each step timed from the end of the one before.
   */
  async train(
    net: Sequential,
    d: Images,
    r: Reps & { lr: number; adversarial?: AdversarialSpec },
  ): Promise<number[]> {
    const model = clone(net);
    const steps = r.warmup + r.iters;
    const rows = Math.min(d.count, steps * r.batch);
    const part: Images = { ...d, count: rows };
    const pool = this.pool(r.threads);
    const opt = adam({ lr: r.lr });
    const marks = [performance.now()];
    const opts = {
      epochs: 1,
      batchSize: r.batch,
      seed: 1,
      schedule: 'constant' as const,
      workers: pool as GradientWorkers | undefined,
      ...(r.adversarial ? { adversarial: r.adversarial } : {}),
    };
    // Wrapping around the rows as often as needed: an epoch of `rows` is ceil(rows / batch) steps.
    for (let e = 0; marks.length <= steps; e++) {
      await trainEpoch(model, opt, part, opts, e, () => {
        if (marks.length <= steps) marks.push(performance.now());
      });
    }
    await pool?.release(model);
    return marks.slice(r.warmup + 1).map((t, i) => (t - marks[r.warmup + i]) / 1000);
  }

  /**
   * L∞ PGD from the clean input (no random start): `steps` sign steps of `alpha` on the cross-entropy, projected to
   * x ± eps and [0, 1]. The gradient comes from this thread or the pool; the step and projection run here.
   */
  pgd(
    net: Sequential,
    d: Images,
    r: Reps & { steps: number; eps: number; alpha: number },
  ): Promise<number[]> {
    const { x: x0, y } = firstRows(d, r.batch);
    const pool = this.pool(r.threads);
    const lo = ops.sub(x0, r.eps),
      hi = ops.add(x0, r.eps);
    return timed(r.iters, r.warmup, async () => {
      let x = x0;
      for (let s = 0; s < r.steps; s++) {
        const g = pool
          ? (await pool.inputGradients(net, x, y)).grad
          : net.lossGradients(x, (z) => ops.sum(ops.crossEntropy(z, y)), { input: true }).dx!;
        x = noGrad(() =>
          ops.clamp(
            ops.minimum(ops.maximum(ops.add(x, ops.mul(ops.sign(g), r.alpha)), lo), hi),
            0,
            1,
          ),
        );
      }
    });
  }

  close(): void {
    for (const p of this.pools.values()) p.close();
    this.pools.clear();
  }
}

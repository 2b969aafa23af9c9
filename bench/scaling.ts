// Throughput against batch size and threads: hashguard inference of each model (dense and hashed twin) at batch 1,
// 4, 16, 64, 256 and 1024 on 1 thread (this thread, as `--threads 1`) and 2 (the worker pool), threads back to back
// at each point. Feeds the chart of bench/scaling-chart.ts.
import type { Sequential } from '../src/nn/index.ts';
import type { HashguardRunner, Images } from './peers/hashguard.ts';

/** The chart's panels: a dense model and its hashed 1/8 twin. */
export const SCALING_PAIRS = [
  ['mnist-mlp', 'mnist-mlp-h8'],
  ['mnist-lenet5', 'mnist-lenet5-h8'],
  ['cifar10-cnn', 'cifar10-cnn-h8'],
] as const;
export const SCALING_BATCHES = [1, 4, 16, 64, 256, 1024];
export const SCALING_THREADS = [1, 2];

export interface ScalingPoint {
  model: string;
  threads: number;
  batch: number;
  imagesPerSec: number;
  /** Timed calls (as many as fill the minimum time, at least the minimum count). */
  calls: number;
}

/**
 * Every (model, batch, threads) point: after `warmup` calls, calls until `minSeconds` have passed and at least
 * `minCalls` were made; images/s over them.
 */
export async function measureScaling(o: {
  nets: ReadonlyMap<string, Sequential>;
  data: (model: string) => Images;
  runner: HashguardRunner;
  batches: number[];
  minSeconds: number;
  minCalls: number;
  warmup: number;
  onPoint?: (p: ScalingPoint, done: number, total: number) => void;
}): Promise<ScalingPoint[]> {
  const points: ScalingPoint[] = [];
  const models = SCALING_PAIRS.flat();
  const total = models.length * o.batches.length * SCALING_THREADS.length;
  for (const model of models)
    for (const batch of o.batches)
      for (const threads of SCALING_THREADS) {
        const net = o.nets.get(model)!;
        const reps = { threads, batch, warmup: o.warmup, iters: o.minCalls };
        const times = await o.runner.infer(net, o.data(model), reps);
        let spent = times.reduce((a, b) => a + b, 0);
        while (spent < o.minSeconds) {
          const more = await o.runner.infer(net, o.data(model), { ...reps, warmup: 0, iters: 1 });
          times.push(...more);
          spent += more[0];
        }
        const p = {
          model,
          threads,
          batch,
          imagesPerSec: Math.round((batch * times.length) / spent),
          calls: times.length,
        };
        points.push(p);
        o.onPoint?.(p, points.length, total);
      }
  return points;
}

// The workloads `bun run bench` measures and who runs each: hashguard (and its hashed twin), onnxruntime-node and
// PyTorch, at the same thread count, on the same weights and inputs. A workload is data: its size, its metric and
// one `measure` per contender returning that round's figure; bench/run.ts runs them interleaved in rounds.
import type { Sequential } from '../src/nn/index.ts';
import { HashguardRunner, type Images } from './peers/hashguard.ts';
import { ortTimes } from './peers/ort.ts';
import type { TorchPeer } from './peers/torch.ts';

/** One round's figure; `variants` holds each configuration's figure where the peer ran in several. */
export interface Figure {
  value: number;
  variants?: Record<string, number>;
}

export interface Contender {
  /** hashguard, hashguard-h8 (the hashed 1/8 twin), onnxruntime or torch. */
  peer: string;
  model: string;
  measure(): Promise<Figure>;
}

export interface Workload {
  id: string;
  title: string;
  /** throughput: work per second (higher is better); latency: ms per call (lower is better). */
  metric: 'throughput' | 'latency';
  unit: string;
  threads: number;
  batch: number;
  settings: Record<string, unknown>;
  contenders: Contender[];
  /** Peers this workload names but could not run, with the reason. */
  skipped: Record<string, string>;
}

/** A torch peer process per configuration (OpenMP's default spin-waiting, and OMP_WAIT_POLICY=PASSIVE). */
export interface TorchVariant {
  name: string;
  peer: TorchPeer;
}

export interface BenchContext {
  quick: boolean;
  nets: ReadonlyMap<string, Sequential>;
  /** ONNX bytes per model (exportOnnx), the file onnxruntime runs and torch-peer.py builds its modules from. */
  graphs: ReadonlyMap<string, Uint8Array>;
  data: { mnist: Images; cifar: Images };
  hashguard: HashguardRunner;
  /** onnxruntime's configurations: spinning on (its default) and off; reason when it cannot run. */
  ort: { spinning: boolean[] } | { reason: string };
  torch: { variants: TorchVariant[] } | { reason: string };
}

const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b),
    m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The figure of a list of per-iteration seconds: work per second over the whole run, or the median call in ms. */
export function figureOf(metric: Workload['metric'], seconds: number[], work: number): number {
  return metric === 'latency' ? median(seconds) * 1000 : (work * seconds.length) / sum(seconds);
}

/** The best of several configurations (highest throughput, lowest latency), each one kept. */
function best(metric: Workload['metric'], variants: Record<string, number>): Figure {
  const values = Object.values(variants);
  return {
    value: metric === 'latency' ? Math.min(...values) : Math.max(...values),
    variants,
  };
}

interface Spec {
  id: string;
  title: string;
  metric: Workload['metric'];
  unit: string;
  /** Work per iteration in the unit's numerator (images or image-steps). */
  work: number;
  threads: number;
  batch: number;
  iters: number;
  warmup: number;
  data: 'mnist' | 'cifar';
  /** Models by contender; a contender absent here does not run this workload. */
  models: Partial<Record<'hashguard' | 'hashguard-h8' | 'onnxruntime' | 'torch', string>>;
  kind: 'infer' | 'train' | 'pgd' | 'adv-train';
  settings?: Record<string, unknown>;
}

/** The workload list, full size or --quick (tiny counts: a smoke test of every path). */
export function workloadSpecs(quick: boolean): Spec[] {
  const q = (full: number, small: number) => (quick ? small : full);
  const pgdBatch = q(256, 16),
    atBatch = q(100, 20);
  const pgd = { steps: 40, eps: 0.3, alpha: 0.01 };
  return [
    {
      id: 'lenet5-infer-b256',
      title: 'LeNet-5 inference, batch 256',
      metric: 'throughput',
      unit: 'images/s',
      work: 256,
      threads: 2,
      batch: 256,
      iters: q(20, 2),
      warmup: q(5, 1),
      data: 'mnist',
      kind: 'infer',
      models: {
        hashguard: 'mnist-lenet5',
        'hashguard-h8': 'mnist-lenet5-h8',
        onnxruntime: 'mnist-lenet5',
        torch: 'mnist-lenet5',
      },
    },
    {
      id: 'mlp-infer-b256',
      title: 'MLP 784-300-100-10 inference, batch 256',
      metric: 'throughput',
      unit: 'images/s',
      work: 256,
      threads: 2,
      batch: 256,
      iters: q(40, 2),
      warmup: q(10, 1),
      data: 'mnist',
      kind: 'infer',
      models: { hashguard: 'mnist-mlp', onnxruntime: 'mnist-mlp', torch: 'mnist-mlp' },
    },
    {
      id: 'lenet5-infer-b1',
      title: 'LeNet-5 batch-1 latency, 1 thread',
      metric: 'latency',
      unit: 'ms',
      work: 1,
      threads: 1,
      batch: 1,
      iters: q(300, 10),
      warmup: q(50, 3),
      data: 'mnist',
      kind: 'infer',
      models: { hashguard: 'mnist-lenet5', onnxruntime: 'mnist-lenet5', torch: 'mnist-lenet5' },
    },
    {
      id: 'lenet5-train-b64',
      title: 'LeNet-5 training, batch 64, Adam',
      metric: 'throughput',
      unit: 'images/s',
      work: 64,
      threads: 2,
      batch: 64,
      iters: q(30, 2),
      warmup: q(10, 1),
      data: 'mnist',
      kind: 'train',
      settings: { lr: 1e-3 },
      models: {
        hashguard: 'mnist-lenet5',
        'hashguard-h8': 'mnist-lenet5-h8',
        torch: 'mnist-lenet5',
      },
    },
    {
      id: 'cifar-infer-b256',
      title: `CIFAR-10 CNN inference, batch ${q(256, 16)}`,
      metric: 'throughput',
      unit: 'images/s',
      work: q(256, 16),
      threads: 2,
      batch: q(256, 16),
      iters: q(3, 1),
      warmup: 1,
      data: 'cifar',
      kind: 'infer',
      models: {
        hashguard: 'cifar10-cnn',
        'hashguard-h8': 'cifar10-cnn-h8',
        onnxruntime: 'cifar10-cnn',
        torch: 'cifar10-cnn',
      },
    },
    {
      id: 'cifar-train-b64',
      title: 'CIFAR-10 CNN training, batch 64, Adam',
      metric: 'throughput',
      unit: 'images/s',
      work: 64,
      threads: 2,
      batch: 64,
      iters: q(8, 1),
      warmup: q(2, 1),
      data: 'cifar',
      kind: 'train',
      settings: { lr: 1e-3 },
      models: { hashguard: 'cifar10-cnn', 'hashguard-h8': 'cifar10-cnn-h8', torch: 'cifar10-cnn' },
    },
    {
      id: 'pgd40-lenet5',
      title: `PGD-40 on LeNet-5, batch ${pgdBatch}`,
      metric: 'throughput',
      unit: 'image-steps/s',
      work: pgdBatch * pgd.steps,
      threads: 2,
      batch: pgdBatch,
      iters: q(2, 1),
      warmup: q(1, 0),
      data: 'mnist',
      kind: 'pgd',
      settings: { ...pgd, randomStart: false },
      models: { hashguard: 'mnist-lenet5', torch: 'mnist-lenet5' },
    },
    {
      id: 'at-epoch-mnist-cnn',
      title: `PGD-AT (pgd:eps=0.3,steps=40,step=0.01) of mnist-cnn, batch ${atBatch}`,
      metric: 'throughput',
      unit: 'images/s',
      work: atBatch,
      threads: 2,
      batch: atBatch,
      iters: q(5, 1),
      warmup: 1,
      data: 'mnist',
      kind: 'adv-train',
      settings: { ...pgd, lr: 0.005, epochImages: 60_000 },
      models: { hashguard: 'mnist-cnn', torch: 'mnist-cnn' },
    },
  ];
}

/** Every model some workload runs (bench/run.ts loads these and exports their ONNX graphs). */
export const workloadModels = (quick: boolean): string[] => [
  ...new Set(workloadSpecs(quick).flatMap((s) => Object.values(s.models))),
];

/** The workloads with their contenders bound to the context's runners. */
export function buildWorkloads(ctx: BenchContext): Workload[] {
  return workloadSpecs(ctx.quick).map((s) => {
    const reps = { threads: s.threads, batch: s.batch, iters: s.iters, warmup: s.warmup };
    const data = ctx.data[s.data];
    const settings = { ...s.settings, iters: s.iters, warmup: s.warmup, data: s.data };
    const contenders: Contender[] = [];
    const skipped: Record<string, string> = {};
    const hashguardSide = (model: string): Promise<number[]> => {
      const net = ctx.nets.get(model)!,
        h = ctx.hashguard,
        st = s.settings ?? {};
      if (s.kind === 'infer') return h.infer(net, data, reps);
      if (s.kind === 'pgd')
        return h.pgd(net, data, {
          ...reps,
          steps: st.steps as number,
          eps: st.eps as number,
          alpha: st.alpha as number,
        });
      return h.train(net, data, {
        ...reps,
        lr: st.lr as number,
        ...(s.kind === 'adv-train'
          ? {
              adversarial: {
                kind: 'pgd' as const,
                eps: st.eps as number,
                steps: st.steps as number,
                step: st.alpha as number,
              },
            }
          : {}),
      });
    };
    for (const peer of ['hashguard', 'hashguard-h8'] as const) {
      const model = s.models[peer];
      if (model)
        contenders.push({
          peer,
          model,
          measure: async () => ({ value: figureOf(s.metric, await hashguardSide(model), s.work) }),
        });
    }
    const ortModel = s.models.onnxruntime;
    if (ortModel) {
      const ort = ctx.ort;
      const ortX = data.images.slice(0, s.batch * data.shape[0] * data.shape[1] * data.shape[2]);
      if ('reason' in ort) skipped.onnxruntime = ort.reason;
      else
        contenders.push({
          peer: 'onnxruntime',
          model: ortModel,
          measure: async () => {
            const variants: Record<string, number> = {};
            for (const spinning of ort.spinning) {
              const t = await ortTimes(ctx.graphs.get(ortModel)!, ortX, [s.batch, ...data.shape], {
                ...reps,
                spinning,
              });
              variants[spinning ? 'spinning' : 'no-spinning'] = figureOf(s.metric, t, s.work);
            }
            return best(s.metric, variants);
          },
        });
    }
    const torchModel = s.models.torch;
    if (torchModel) {
      const torch = ctx.torch;
      if ('reason' in torch) skipped.torch = torch.reason;
      else
        contenders.push({
          peer: 'torch',
          model: torchModel,
          measure: async () => {
            const variants: Record<string, number> = {};
            for (const v of torch.variants) {
              const r = await v.peer.request<{ seconds: number[] }>({
                op: 'bench',
                workload: s.kind,
                model: torchModel,
                data: s.data,
                ...reps,
                ...s.settings,
              });
              variants[v.name] = figureOf(s.metric, r.seconds, s.work);
            }
            return best(s.metric, variants);
          },
        });
    }
    return {
      id: s.id,
      title: s.title,
      metric: s.metric,
      unit: s.unit,
      threads: s.threads,
      batch: s.batch,
      settings,
      contenders,
      skipped,
    };
  });
}

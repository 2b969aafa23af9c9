// `bun run bench`: CPU speed of the committed MNIST models, side by side in one run (compare ratios on a noisy
// machine): (1) each CPU backend on one thread: batch-1 latency, batch-256 inference, batch-64 training;
// (2) the WebAssembly backend through the worker pool at 1 and 2 threads: inference, training and 40-step PGD;
// (3) onnxruntime-node on the same weights at 1 and 2 threads (a devDependency),
//     and the LeNet-5 inference ratio measured interleaved with it, round by round;
// (4) hashed versus dense speed and the HashedNets CPU strategy (virtual weight cached vs rebuilt per call).
// Writes bench/results/<date>-<runtime>.json with the machine and command. Timings only, no assertions.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad, ops } from '../src/autodiff/index.ts';
import { referenceBackend, setBackend, createWasmBackend } from '../src/backend/index.ts';
import { machineInfo, sourceRevision, scriptFlags, usageExit } from '../src/cli/index.ts';
import { syntheticDataset } from '../src/data/index.ts';
import { hashTable } from '../src/hash/index.ts';
import { writeFileAtomic, loadModelDir } from '../src/io/index.ts';
import { adam, Sequential } from '../src/nn/index.ts';
import { trainEpoch, type GradientWorkers } from '../src/nn/train.ts';
import { WorkerPool } from '../src/parallel/index.ts';
import { type Backend, Tensor } from '../src/tensor/index.ts';
import { exportOnnx } from './onnx-export.ts';
import { squareRate } from './attack-rates.ts';
import { medianMs } from './timing.ts';
import { BENCH_FLAGS, BENCH_USAGE } from './usage.ts';

const flags = scriptFlags(BENCH_USAGE, BENCH_FLAGS);
const quick = Boolean(flags.quick);
// `--backend webgpu`: the GPU-vs-CPU comparison (bench/webgpu.ts, which reads the same flags) instead of the CPU benchmark.
if (flags.backend === 'webgpu') {
  await import('./webgpu.ts');
  process.exit(0);
}
if (flags.backend !== undefined && flags.backend !== 'cpu')
  usageExit(BENCH_USAGE, `--backend: expected cpu or webgpu, got '${flags.backend}'`);
for (const gpuOnly of ['peak-gflops', 'peak-gbps'])
  if (flags[gpuOnly] !== undefined)
    usageExit(BENCH_USAGE, `--${gpuOnly} applies to --backend webgpu only`);
const shape: [number, number, number] = [1, 28, 28];
const MODELS = ['mnist-mlp', 'mnist-mlp-h8', 'mnist-lenet5', 'mnist-lenet5-h8'] as const;
const round = (v: number, d = 3) => Math.round(v * 10 ** d) / 10 ** d;

async function loadNet(name: string): Promise<Sequential> {
  const { manifest, tensors } = await loadModelDir(join(import.meta.dir, '../models', name));
  return new Sequential(manifest.input.shape, manifest.layers, tensors);
}

/** A fresh copy of the network (training changes parameters; every measurement starts from the same ones). */
const clone = (m: Sequential) => new Sequential(m.inputShape, m.layers, new Map(m.params));

const data = syntheticDataset({ count: quick ? 512 : 4096, shape, classes: 10, seed: 1 });
const x1 = new Tensor([1, ...shape], data.images.slice(0, 784));
const x256 = new Tensor([256, ...shape], data.images.slice(0, 256 * 784));
const y256 = new Tensor([256], Float32Array.from(data.labels.subarray(0, 256)));

/**
 * Images per second of whole training epochs (batch 64, Adam) over the synthetic set: the median of 3 epochs
 * after 2 warm-up epochs. Steady state, as a long training run sees it: JSC tiers code up over the first
 * few hundred steps (in each worker separately), and single epochs on this 2-core machine vary by ±20%.
 */
async function trainRate(net: Sequential, workers?: GradientWorkers): Promise<number> {
  const model = clone(net);
  const opt = adam();
  const epochs = quick ? 2 : 5,
    warm = quick ? 1 : 2;
  const opts = { epochs, batchSize: 64, seed: 1, schedule: 'constant' as const, workers };
  const rates: number[] = [];
  for (let e = 0; e < epochs; e++) {
    const r = await trainEpoch(model, opt, data, opts, e);
    if (e >= warm) rates.push(data.count / r.seconds);
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)];
}

/**
 * 40-step L∞ PGD (ε 0.3, step 0.01, cross-entropy) on a batch of 256: image-steps per second. The gradient
 * comes from this thread or from the pool; the sign step and the projection run here either way.
 */
async function pgdRate(net: Sequential, pool?: WorkerPool): Promise<number> {
  const steps = quick ? 5 : 40,
    eps = 0.3,
    alpha = 0.01;
  const run = async () => {
    let x = x256;
    for (let s = 0; s < steps; s++) {
      const g = pool
        ? (await pool.inputGradients(net, x, y256)).grad
        : net.lossGradients(x, (z) => ops.sum(ops.crossEntropy(z, y256)), { input: true }).dx!;
      x = noGrad(() =>
        ops.clamp(
          ops.minimum(
            ops.maximum(ops.add(x, ops.mul(ops.sign(g), alpha)), ops.sub(x256, eps)),
            ops.add(x256, eps),
          ),
          0,
          1,
        ),
      );
    }
  };
  const ms = await medianMs(run, quick ? 1 : 3, 1);
  return (256 * steps) / (ms / 1000);
}

/** Square on 100 images against a score oracle (bench/attack-rates.ts): queries/s. */
function squareRateOf(net: Sequential): Promise<number> {
  const x = new Tensor([100, ...shape], data.images.slice(0, 100 * 784)),
    y = new Tensor([100], Float32Array.from(data.labels.subarray(0, 100)));
  return squareRate(net, x, y, quick ? 100 : 500);
}

// (1) One thread, each backend, in this process.
const backends = [referenceBackend, createWasmBackend()].filter((b): b is Backend => b !== null);
const nets = new Map<string, Sequential>();
for (const name of MODELS) nets.set(name, await loadNet(name));
interface SingleRow {
  backend: string;
  model: string;
  storedParameters: number;
  inferBatch1LatencyMs: number;
  inferBatch256ImagesPerSec: number;
  trainBatch64ImagesPerSec: number;
  pgd40ImageStepsPerSec?: number;
  squareQueriesPerSec?: number;
}
interface PoolRow {
  backend: string;
  threads: number;
  model: string;
  inferBatch1LatencyMs: number;
  inferBatch256ImagesPerSec: number;
  trainBatch64ImagesPerSec: number;
  pgd40Batch256ImageStepsPerSec: number;
}
interface OrtRow {
  runtime: string;
  threads: number;
  spinning: boolean;
  model: string;
  inferBatch1LatencyMs: number;
  inferBatch256ImagesPerSec: number;
}
const singleThread: SingleRow[] = [];
for (const backend of backends) {
  setBackend(backend);
  for (const name of MODELS) {
    const net = nets.get(name)!;
    const latencyMs = await medianMs(() => noGrad(() => net.forward(x1)), quick ? 20 : 200, 50);
    const batchMs = await medianMs(() => noGrad(() => net.forward(x256)), quick ? 3 : 15, 20);
    const r = {
      backend: backend.name,
      model: name,
      storedParameters: net.parameterCount(),
      inferBatch1LatencyMs: round(latencyMs),
      inferBatch256ImagesPerSec: Math.round(256000 / batchMs),
      trainBatch64ImagesPerSec: Math.round(await trainRate(net)),
    };
    if (name === 'mnist-lenet5') {
      // Attack throughput on this backend: PGD image-steps/s and Square queries/s, in-process.
      (r as SingleRow).pgd40ImageStepsPerSec = Math.round(await pgdRate(net));
      (r as SingleRow).squareQueriesPerSec = Math.round(await squareRateOf(net));
    }
    console.log(
      `1 thread ${backend.name.padEnd(14)} ${name.padEnd(16)} batch-1 ${r.inferBatch1LatencyMs} ms | batch-256 ${r.inferBatch256ImagesPerSec} img/s | train b64 ${r.trainBatch64ImagesPerSec} img/s` +
        ((r as SingleRow).pgd40ImageStepsPerSec
          ? ` | PGD-40 ${(r as SingleRow).pgd40ImageStepsPerSec} image-steps/s | Square ${(r as SingleRow).squareQueriesPerSec} queries/s`
          : ''),
    );
    singleThread.push(r);
  }
}
const wasm = backends.find((b) => b.name === 'cpu-wasm-simd') ?? referenceBackend;
setBackend(wasm);

// (2) The worker pool (workers run the wasm backend), 1 and 2 threads; PGD also in-process for reference.
const pooled: PoolRow[] = [];
for (const threads of [1, 2]) {
  const pool = new WorkerPool({ size: threads });
  try {
    for (const name of ['mnist-mlp', 'mnist-lenet5', 'mnist-lenet5-h8'] as const) {
      const net = nets.get(name)!;
      // Workers start cold: JSC tiers their wasm up over the first few dozen calls, so warm up longer.
      const latencyMs = await medianMs(() => pool.forward(net, x1), quick ? 20 : 200, 200);
      const batchMs = await medianMs(() => pool.forward(net, x256), quick ? 3 : 15, 40);
      const r = {
        backend: wasm.name,
        threads,
        model: name,
        inferBatch1LatencyMs: round(latencyMs),
        inferBatch256ImagesPerSec: Math.round(256000 / batchMs),
        trainBatch64ImagesPerSec: Math.round(await trainRate(net, pool)),
        pgd40Batch256ImageStepsPerSec: Math.round(await pgdRate(net, pool)),
      };
      console.log(
        `pool ${threads} ${name.padEnd(16)} batch-1 ${r.inferBatch1LatencyMs} ms | batch-256 ${r.inferBatch256ImagesPerSec} img/s | train b64 ${r.trainBatch64ImagesPerSec} img/s | PGD-40 ${r.pgd40Batch256ImageStepsPerSec} image-steps/s`,
      );
      pooled.push(r);
    }
  } finally {
    pool.close();
  }
}
const pgdInProcess = Math.round(await pgdRate(nets.get('mnist-lenet5')!));
console.log(`in-process (no pool) mnist-lenet5 PGD-40 ${pgdInProcess} image-steps/s`);

// (3) onnxruntime-node on the same weights (dense-equivalent graphs), if installed.
// The package is optional (not in package.json), so it is typed here by the little the bench uses, and
// imported through a variable so the typecheck of a fresh install does not need it.
interface OrtSession {
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: Float32Array }>>;
  release(): Promise<void>;
}
interface Ort {
  env: { versions: { common: string } };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
  InferenceSession: {
    create(model: Uint8Array, options: Record<string, unknown>): Promise<OrtSession>;
  };
}
let ort: Ort | null = null;
const ortModule = 'onnxruntime-node';
try {
  ort = (await import(ortModule)) as unknown as Ort;
} catch {
  console.log('onnxruntime-node is not installed: run `npm ci` for the comparison');
}
const onnx: OrtRow[] = [];
/** Session options: `threads` intra-op threads, spin-waiting on (onnxruntime's default) or off. */
const ortOptions = (threads: number, spinning: boolean) => ({
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  ...(spinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
});
if (ort) {
  // STACK.md: with 2 threads onnxruntime sometimes halves here (spin-waiting against a noisy neighbour), so
  // it runs with spinning on (its default) and off; ratios use its faster configuration.
  for (const { threads, spinning } of [
    { threads: 1, spinning: true },
    { threads: 2, spinning: true },
    { threads: 2, spinning: false },
  ])
    for (const name of ['mnist-mlp', 'mnist-lenet5'] as const) {
      const net = nets.get(name)!;
      const session = await ort.InferenceSession.create(
        exportOnnx(net.layers, net.params, net.inputShape, 10),
        ortOptions(threads, spinning),
      );
      const feed = (x: Tensor) => ({
        x: new ort!.Tensor('float32', x.data as Float32Array, [x.shape[0], ...shape]),
      });
      const latencyMs = await medianMs(() => session.run(feed(x1)), quick ? 20 : 200, 50);
      const batchMs = await medianMs(() => session.run(feed(x256)), quick ? 3 : 15, 20);
      const r = {
        runtime: `onnxruntime-node ${ort.env.versions.common}`,
        threads,
        spinning,
        model: name,
        inferBatch1LatencyMs: round(latencyMs),
        inferBatch256ImagesPerSec: Math.round(256000 / batchMs),
      };
      console.log(
        `onnxruntime ${threads}${spinning ? '' : ' (no spin)'} ${name.padEnd(16)} batch-1 ${r.inferBatch1LatencyMs} ms | batch-256 ${r.inferBatch256ImagesPerSec} img/s`,
      );
      onnx.push(r);
      await session.release();
    }
}

// (3b) The LeNet-5 inference ratio, interleaved: this machine's speed drifts by up to 1.7× over minutes (other
// tenants), so the ratio of two sections measured minutes apart is not trustworthy. Five rounds, each timing
// the 2-worker pool and onnxruntime (2 threads, spinning and not, the faster) back to back; the median ratio.
interface RatioRound {
  hashguardImagesPerSec: number;
  onnxruntimeImagesPerSec: number;
  ratio: number;
}
const interleaved: RatioRound[] = [];
if (ort) {
  const net = nets.get('mnist-lenet5')!;
  const pool = new WorkerPool({ size: 2 });
  const graph = exportOnnx(net.layers, net.params, net.inputShape, 10);
  const feed = { x: new ort.Tensor('float32', x256.data as Float32Array, [256, ...shape]) };
  // One session at a time, released after its measurement: a live session's spinning threads would take the
  // cores from whatever runs next (two live sessions measured each other at a third of their speed).
  const ortRate = async (spinning: boolean) => {
    const sess = await ort!.InferenceSession.create(graph, ortOptions(2, spinning));
    try {
      return 256000 / (await medianMs(() => sess.run(feed), quick ? 3 : 15, 10));
    } finally {
      await sess.release();
    }
  };
  try {
    await medianMs(() => pool.forward(net, x256), 1, 60);
    for (let r = 0; r < (quick ? 2 : 5); r++) {
      const ours = 256000 / (await medianMs(() => pool.forward(net, x256), quick ? 3 : 15, 5));
      const theirs = Math.max(await ortRate(true), await ortRate(false));
      interleaved.push({
        hashguardImagesPerSec: Math.round(ours),
        onnxruntimeImagesPerSec: Math.round(theirs),
        ratio: round(ours / theirs),
      });
      console.log(
        `interleaved round ${r + 1}: hashguard pool 2 ${Math.round(ours)} img/s, onnxruntime 2 threads ${Math.round(theirs)} img/s, ratio ${round(ours / theirs)}`,
      );
    }
  } finally {
    pool.close();
  }
}
const medianOf = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

// Ratios against the project's targets (same run, same machine).
const at = (threads: number, model: string) =>
  pooled.find((r) => r.threads === threads && r.model === model)!;
const ortAt = (threads: number, model: string) =>
  onnx
    .filter((r) => r.threads === threads && r.model === model)
    .sort((a, b) => b.inferBatch256ImagesPerSec - a.inferBatch256ImagesPerSec)[0];
const ratios = {
  lenet5InferVsOnnxruntime2ThreadsInterleavedMedian: interleaved.length
    ? medianOf(interleaved.map((r) => r.ratio))
    : null,
  lenet5InferVsOnnxruntime2Threads: ortAt(2, 'mnist-lenet5')
    ? round(
        at(2, 'mnist-lenet5').inferBatch256ImagesPerSec /
          ortAt(2, 'mnist-lenet5')!.inferBatch256ImagesPerSec,
      )
    : null,
  mlpInferVsOnnxruntime2Threads: ortAt(2, 'mnist-mlp')
    ? round(
        at(2, 'mnist-mlp').inferBatch256ImagesPerSec /
          ortAt(2, 'mnist-mlp')!.inferBatch256ImagesPerSec,
      )
    : null,
  lenet5TrainVsPytorch12k: round(at(2, 'mnist-lenet5').trainBatch64ImagesPerSec / 12000),
  lenet5PgdVsPytorch12k: round(at(2, 'mnist-lenet5').pgd40Batch256ImageStepsPerSec / 12000),
  poolSpeedup2vs1Lenet5Infer: round(
    at(2, 'mnist-lenet5').inferBatch256ImagesPerSec /
      at(1, 'mnist-lenet5').inferBatch256ImagesPerSec,
  ),
};
console.log('ratios', ratios);

// (4) Hashed vs dense, and the HashedNets CPU strategy on the active (wasm) backend.
function hashedStrategy(name: string) {
  const net = nets.get(name)!;
  const rebuildAll = () => {
    for (const spec of net.layers) {
      if (spec.type !== 'hashed-dense' && spec.type !== 'hashed-conv2d') continue;
      const rows = spec.type === 'hashed-dense' ? spec.outDim : spec.outChannels;
      const cols =
        spec.type === 'hashed-dense' ? spec.inDim : spec.inChannels * spec.kernelSize ** 2;
      ops.hashGather(
        net.params.get(spec.weight)!,
        hashTable(rows, cols, spec.hash.seed, spec.hash.buckets),
        [rows, cols],
      );
    }
  };
  return async () => {
    const cachedMs = await medianMs(() => noGrad(() => net.forward(x1)), quick ? 20 : 200, 5);
    const rebuildMs = await medianMs(
      () =>
        noGrad(() => {
          rebuildAll();
          net.forward(x1);
        }),
      quick ? 20 : 200,
      5,
    );
    return {
      model: name,
      batch1CachedMs: round(cachedMs),
      batch1RebuiltEveryCallMs: round(rebuildMs),
      slowdownIfRebuilt: round(rebuildMs / cachedMs),
    };
  };
}
const strategy = [
  await hashedStrategy('mnist-mlp-h8')(),
  await hashedStrategy('mnist-lenet5-h8')(),
];
for (const s of strategy)
  console.log(
    `${s.model.padEnd(16)} batch-1: virtual weight cached ${s.batch1CachedMs} ms, rebuilt every call ${s.batch1RebuiltEveryCallMs} ms (${s.slowdownIfRebuilt}x)`,
  );
const one = (model: string) =>
  singleThread.find((r) => r.backend === wasm.name && r.model === model)!;
const hashedVsDense = [
  ['mnist-mlp-h8', 'mnist-mlp'],
  ['mnist-lenet5-h8', 'mnist-lenet5'],
].map(([h, d]) => ({
  hashed: h,
  dense: d,
  inferBatch256Ratio: round(one(h).inferBatch256ImagesPerSec / one(d).inferBatch256ImagesPerSec),
  inferBatch1LatencyRatio: round(one(h).inferBatch1LatencyMs / one(d).inferBatch1LatencyMs),
  trainBatch64Ratio: round(one(h).trainBatch64ImagesPerSec / one(d).trainBatch64ImagesPerSec),
}));
console.log('hashed / dense (wasm, 1 thread)', hashedVsDense);

const machine = machineInfo();
const date = new Date().toISOString().slice(0, 10);
const report = {
  date: new Date().toISOString(),
  command: `bun run bench${quick ? ' -- --quick' : ''}`,
  note:
    'Synthetic inputs through the committed models. Training: Adam, batch 64, median of 3 whole epochs after 2 warm-up epochs. PGD: L-inf eps 0.3, step 0.01, 40 steps, batch 256, ' +
    'cross-entropy; image-steps/s = 256·40 / seconds. PyTorch figures (12k train img/s, 12k PGD image-steps/s at 2 threads) are reference figures, not measured here.',
  machine,
  source: sourceRevision(),
  singleThread,
  pooled,
  pgdInProcessLenet5ImageStepsPerSec: pgdInProcess,
  onnxruntime: onnx,
  lenet5InferInterleaved: interleaved,
  ratios,
  hashedVsDense,
  hashedStrategy: strategy,
};
const dir = join(import.meta.dir, 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `${date}-${machine.runtime.split(' ')[0]}${quick ? '-quick' : ''}.json`);
await writeFileAtomic(file, JSON.stringify(report, null, 2) + '\n');
console.log(`wrote ${file}`);

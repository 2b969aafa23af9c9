// `bun run bench -- --backend webgpu`: WebGPU (the async GPU chain) against the wasm CPU backend, side by side in
// one run, on the committed MNIST models: inference (batch 256 and 1024), one PGD step (input gradient, batch
// 256), whole PGD-40 and Square attacks through the library (image-steps/s, queries/s) and one training step
// (batch 64: forward, backward, Adam), plus the hashed-dense kernel alone at batch 1024 (mnist-mlp-h8's 784→300
// layer: effective GFLOP/s and GB/s, and their fraction of the GPU's peak when --peak-gflops / --peak-gbps are given). Writes bench/results/<date>-webgpu-<adapter>.json.
// NOTE: on a software adapter (llvmpipe) the numbers measure a CPU rasterizer: correctness only, never tuning.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ops } from '../src/autodiff/index.ts';
import { selectBackend, setBackend, createWasmBackend } from '../src/backend/index.ts';
import { kernelSpecs } from '../src/backend/webgpu/kernel-specs.ts';
import { runKernel } from '../src/backend/webgpu/run-kernel.ts';
import type { WebGpuBackend } from '../src/backend/webgpu/backend.ts';
import {
  number,
  machineInfo,
  sourceRevision,
  scriptFlags,
  usageExit,
  withUsage,
} from '../src/cli/index.ts';
import { syntheticDataset } from '../src/data/index.ts';
import { loadDataset } from '../src/data/node.ts';
import { writeFileAtomic, loadModelDir } from '../src/io/index.ts';
import { adam, Sequential } from '../src/nn/index.ts';
import { type Backend, Tensor } from '../src/tensor/index.ts';
import { medianMs } from './timing.ts';
import { pgdAttackRate, squareRate } from './attack-rates.ts';
import { BENCH_FLAGS, BENCH_USAGE } from './usage.ts';
import { freshFile } from './fresh-file.ts';

const argv = process.argv.slice(2);
// The command line of `bun run bench -- --backend webgpu …` (or of this file run alone): the same flags as run.ts.
const flags = scriptFlags(BENCH_USAGE, BENCH_FLAGS, argv);
if (flags.backend !== undefined && flags.backend !== 'webgpu')
  usageExit(BENCH_USAGE, `--backend: bench/webgpu.ts measures webgpu, got '${flags.backend}'`);
const quick = Boolean(flags.quick);
const peak = (name: string) =>
  flags[name] === undefined
    ? undefined
    : withUsage(BENCH_USAGE, () => number(flags, name, 0, { min: Number.MIN_VALUE }));
const peakGflops = peak('peak-gflops'),
  peakGbps = peak('peak-gbps');
const MODELS = ['mnist-mlp-h8', 'mnist-lenet5', 'mnist-lenet5-h8'];
const round = (v: number, d = 3) => Math.round(v * 10 ** d) / 10 ** d;

const wasm = createWasmBackend();
if (!wasm)
  throw new Error(
    'bench --backend webgpu compares against the wasm backend, which this runtime lacks',
  );
const selection = await selectBackend('webgpu', wasm);
if (selection.kind !== 'webgpu') throw new Error(`no WebGPU device: ${selection.description}`);
const gpu = selection.backend as WebGpuBackend;
console.log(`webgpu: ${selection.description}`);

const data = syntheticDataset({ count: 1024, shape: [1, 28, 28], classes: 10, seed: 1 });
const batch = (n: number) => new Tensor([n, 1, 28, 28], data.images.slice(0, n * 784));
const labels = (n: number) => new Tensor([n], Float32Array.from(data.labels.subarray(0, n)));
const reps = quick ? 2 : 10;
// Attacks run on real test images: PGD and Square skip inputs the model already gets wrong (most noise images).
const { test: mnistTest } = await loadDataset('mnist');
const mnistX = (n: number) => new Tensor([n, 1, 28, 28], mnistTest.images.slice(0, n * 784));
const mnistY = (n: number) => new Tensor([n], Float32Array.from(mnistTest.labels.subarray(0, n)));

const rows = [];
for (const name of MODELS) {
  const { manifest, tensors } = await loadModelDir(join(import.meta.dir, '../models', name));
  for (const backend of [wasm, gpu] as Backend[]) {
    setBackend(backend);
    const net = new Sequential(manifest.input.shape, manifest.layers, new Map(tensors));
    const x256 = batch(256),
      x1024 = batch(1024),
      y256 = labels(256),
      x64 = batch(64),
      y64 = labels(64);
    const infer256 = await medianMs(() => net.forwardAsync(x256), reps);
    const infer1024 = await medianMs(() => net.forwardAsync(x1024), reps);
    const pgdStep = await medianMs(
      () =>
        net.lossGradientsAsync(x256, (z) => ops.sum(ops.crossEntropy(z, y256)), { input: true }),
      reps,
    );
    const opt = adam();
    const trainStep = await medianMs(async () => {
      const r = await net.lossGradientsAsync(x64, (z) => ops.sum(ops.crossEntropy(z, y64)), {
        params: true,
      });
      opt.step(net.params, r.grads!, 1e-3);
    }, reps);
    // Whole attacks through the library: PGD-40 on 256 images, Square 500 queries on 100.
    const steps = quick ? 5 : 40;
    const pgd40 = await pgdAttackRate(net, mnistX(256), mnistY(256), steps);
    const square = await squareRate(net, mnistX(100), mnistY(100), quick ? 100 : 500);
    const row = {
      backend: backend.name,
      model: name,
      pgd40Batch256ImageStepsPerSec: Math.round(pgd40),
      squareQueriesPerSec: Math.round(square),
      inferBatch256ImagesPerSec: Math.round(256000 / infer256),
      inferBatch1024ImagesPerSec: Math.round(1024000 / infer1024),
      pgdStepBatch256ImageStepsPerSec: Math.round(256000 / pgdStep),
      trainStepBatch64ImagesPerSec: Math.round(64000 / trainStep),
    };
    console.log(row);
    rows.push(row);
  }
}
setBackend(wasm);

// The hashed-dense kernel alone, batch 1024 × 784 → 300 at 1/8 (upload, dispatch and readback included, so
// this is a lower bound on the kernel's own rate).
const p = { batch: 1024, inDim: 784, outDim: 300, buckets: Math.ceil((784 * 300) / 8), seed: 7 };
const inputs = {
  x: Float32Array.from({ length: p.batch * p.inDim }, (_, i) => (i % 255) / 255),
  weight: Float32Array.from({ length: p.buckets }, (_, i) => Math.sin(i)),
  bias: new Float32Array(p.outDim),
};
const kernelMs = await medianMs(
  () => runKernel(gpu.gpu!.device, kernelSpecs['hashed-dense'], { params: p, inputs }),
  reps,
);
const flops = 2 * p.batch * p.inDim * p.outDim;
const bytes = 4 * (p.batch * p.inDim + p.buckets + p.outDim + p.batch * p.outDim);
const gflops = flops / (kernelMs / 1000) / 1e9,
  gbps = bytes / (kernelMs / 1000) / 1e9;
const hashedDense = {
  shape: p,
  ms: round(kernelMs),
  effectiveGflops: round(gflops, 2),
  effectiveGBps: round(gbps, 2),
  ...(peakGflops ? { fractionOfPeakFp32: round(gflops / peakGflops, 4) } : {}),
  ...(peakGbps ? { fractionOfPeakBandwidth: round(gbps / peakGbps, 4) } : {}),
};
console.log('hashed-dense kernel, batch 1024', hashedDense);

const machine = machineInfo();
const adapter = selection.adapter;
const report = {
  date: new Date().toISOString(),
  command: `bun run bench -- ${argv.join(' ')}`,
  note:
    'Side by side in one run: wasm (1 thread) vs the WebGPU chain. Inference/PGD/train through Sequential.forwardAsync / ' +
    'lossGradientsAsync (training step = gradients + Adam). hashed-dense: runKernel including upload and readback.' +
    (selection.software
      ? ' SOFTWARE ADAPTER: these GPU numbers measure a CPU rasterizer (correctness only).'
      : ''),
  machine,
  source: sourceRevision(),
  adapter: { description: selection.description, software: selection.software, info: adapter },
  rows,
  hashedDense,
};
const dir = join(import.meta.dir, 'results');
mkdirSync(dir, { recursive: true });
const tag = (adapter?.device || adapter?.description || 'gpu')
  .toString()
  .toLowerCase()
  .replace(/[^a-z0-9]+/g, '-')
  .slice(0, 40);
const file = freshFile(
  join(dir, `${new Date().toISOString().slice(0, 10)}-webgpu-${tag}${quick ? '-quick' : ''}.json`),
);
await writeFileAtomic(file, JSON.stringify(report, null, 2) + '\n');
console.log(`wrote ${file}`);
gpu.gpu?.device.destroy();

// `bun run bench`: inference latency (batch 1), inference throughput (batch 256) and training throughput
// (batch 64, Adam) of the MLP and LeNet-5, dense and hashed (1/8), on the active CPU kernels, plus the cost of
// the two HashedNets CPU strategies (virtual weight materialized once vs rebuilt on every call). Writes
// bench/results/<date>-<runtime>.json with the machine, runtime and command. Timings only, no assertions.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { referenceBackend, setBackend } from '../src/backend/index.ts';
import { createWasmBackend } from '../src/backend/wasm/index.ts';
import { noGrad } from '../src/autodiff/grad.ts';
import { architecture, type ArchName } from '../src/nn/architectures.ts';
import { initParams } from '../src/nn/init.ts';
import { adam } from '../src/nn/optimizers.ts';
import { Sequential } from '../src/nn/sequential.ts';
import { trainEpoch } from '../src/nn/train.ts';
import { syntheticDataset } from '../src/data/synthetic.ts';
import { Tensor } from '../src/tensor/tensor.ts';
import { writeFileAtomic } from '../src/io/files.ts';
import { machineInfo } from '../src/cli/machine.ts';
import { derivedHashSeeds, hashLayers, parseCompressions, weightedLayerCount } from '../src/nn/hashed-layers.ts';
import type { LayerSpec } from '../src/nn/layer-spec.ts';
import * as ops from '../src/autodiff/ops.ts';
import { hashTable } from '../src/hash/hashed-nets.ts';

const quick = process.argv.includes('--quick');
const shape: [number, number, number] = [1, 28, 28];

/** Median of the per-call times of fn after `warmup` calls, in ms. */
function medianMs(fn: () => void, reps: number, warmup = 3): number {
  for (let i = 0; i < warmup; i++) fn();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}

function layersFor(arch: ArchName, hashed: boolean): LayerSpec[] {
  const dense = architecture(arch, shape, 10);
  const n = weightedLayerCount(dense);
  return hashed ? hashLayers(dense, parseCompressions('1/8', n), derivedHashSeeds(1, n)) : dense;
}

async function benchArch(arch: ArchName, hashed: boolean) {
  const layers = layersFor(arch, hashed);
  const model = new Sequential(shape, layers, initParams(layers, 1));
  const data = syntheticDataset({ count: quick ? 256 : 2048, shape, classes: 10, seed: 1 });
  const x1 = new Tensor([1, ...shape], data.images.slice(0, 784));
  const x256 = new Tensor([256, ...shape], data.images.slice(0, 256 * 784));
  const latencyMs = medianMs(() => noGrad(() => model.forward(x1)), quick ? 20 : 200);
  const batchMs = medianMs(() => noGrad(() => model.forward(x256)), quick ? 2 : 7, 1);
  // Training: whole epochs over the synthetic set (batch 64), timed by the trainer itself.
  const opt = adam();
  const opts = { epochs: 2, batchSize: 64, seed: 1, schedule: 'constant' as const };
  await trainEpoch(model, opt, { ...data, count: 256 }, opts, 0); // warm-up
  const r = await trainEpoch(model, opt, data, opts, 1);
  return {
    model: `${arch}${hashed ? '-h8' : ''}`,
    parameters: model.parameterCount(),
    inferBatch1LatencyMs: round(latencyMs),
    inferBatch256ImagesPerSec: Math.round((256 / batchMs) * 1000),
    trainBatch64ImagesPerSec: Math.round(data.count / r.seconds),
  };
}

const round = (v: number) => Math.round(v * 1000) / 1000;

// Both CPU backends, side by side in one run (compare ratios, not absolute numbers, on a noisy machine).
const backends = [referenceBackend, createWasmBackend()].filter((b) => b !== null);
const results = [];
for (const backend of backends) {
  setBackend(backend);
  for (const arch of ['mlp', 'lenet5'] as const)
    for (const hashed of [false, true]) {
      const r = { backend: backend.name, ...(await benchArch(arch, hashed)) };
      console.log(`${backend.name.padEnd(14)} ${r.model.padEnd(10)} batch-1 latency ${r.inferBatch1LatencyMs} ms | batch-256 ${r.inferBatch256ImagesPerSec} img/s | train (batch 64) ${r.trainBatch64ImagesPerSec} img/s`);
      results.push(r);
    }
}
setBackend(referenceBackend);

/**
 * The HashedNets CPU strategy: building a layer's virtual weight (a gather over rows·cols entries) once per
 * loaded model, as src/nn/layers.ts does for inference, versus on every forward call.
 */
function hashedStrategy(arch: ArchName) {
  const layers = layersFor(arch, true);
  const model = new Sequential(shape, layers, initParams(layers, 1));
  const x = new Tensor([1, ...shape], new Float32Array(784).fill(0.5));
  const rebuildAll = () => {
    for (const spec of layers) {
      if (spec.type !== 'hashed-dense' && spec.type !== 'hashed-conv2d') continue;
      const rows = spec.type === 'hashed-dense' ? spec.outDim : spec.outChannels;
      const cols = spec.type === 'hashed-dense' ? spec.inDim : spec.inChannels * spec.kernelSize ** 2;
      ops.hashedWeight(model.params.get(spec.weight)!, hashTable(rows, cols, spec.hash.seed, spec.hash.buckets), [rows, cols]);
    }
  };
  const cachedMs = medianMs(() => noGrad(() => model.forward(x)), quick ? 20 : 200);
  const rebuildMs = medianMs(() => noGrad(() => { rebuildAll(); model.forward(x); }), quick ? 20 : 200);
  return { model: `${arch}-h8`, batch1CachedMs: round(cachedMs), batch1RebuiltEveryCallMs: round(rebuildMs), slowdownIfRebuilt: round(rebuildMs / cachedMs) };
}
const strategy = (['mlp', 'lenet5'] as const).map(hashedStrategy);
for (const s of strategy) console.log(`${s.model.padEnd(10)} batch-1: virtual weight cached ${s.batch1CachedMs} ms, rebuilt every call ${s.batch1RebuiltEveryCallMs} ms (${s.slowdownIfRebuilt}x)`);
const machine = machineInfo();
const date = new Date().toISOString().slice(0, 10);
const report = {
  date: new Date().toISOString(),
  command: `bun run bench${quick ? ' -- --quick' : ''}`,
  backends: backends.map((b) => b.name),
  hashedStrategyBackend: referenceBackend.name,
  threads: 1,
  machine,
  results,
  hashedStrategy: strategy,
};
const dir = join(import.meta.dir, 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `${date}-${machine.runtime.split(' ')[0]}${quick ? '-quick' : ''}.json`);
await writeFileAtomic(file, JSON.stringify(report, null, 2) + '\n');
console.log(`wrote ${file}`);

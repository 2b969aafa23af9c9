// `bun run bench:cifar`: time and memory of CIFAR-10 (JPEG) work on this machine: decoding
// the 50,000 training and 10,000 test JPEGs (wall time, decoded bytes, resident memory), evaluating each
// committed CIFAR model on the full test split, and training throughput (batch 64, Adam, augmentation on),
// all in one run. Writes bench/results/<date>-cifar-<runtime>.json with the machine and command.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { machineInfo, sourceRevision, scriptFlags } from '../src/cli/index.ts';
import { ensureCifar10Jpeg, loadCifar10Jpeg } from '../src/data/node.ts';
import { writeFileAtomic, loadModelDir } from '../src/io/index.ts';
import { accuracy, adam, Sequential, trainEpoch } from '../src/nn/index.ts';
import { freshFile } from './fresh-file.ts';

const USAGE = `usage: bun run bench:cifar -- [--quick]   (or: bun bench/cifar.ts …)
  CIFAR-10 (JPEG) decoding time and memory, evaluation of the committed CIFAR models on the test split and
  training throughput; writes bench/results/<date>-cifar-<runtime>[-quick].json.
  --quick   500 training and 100 test images, fewer steps (a smoke test; the numbers mean little)`;
const quick = Boolean(scriptFlags(USAGE, { quick: { type: 'boolean' } }).quick);
const MODELS = ['cifar10-cnn', 'cifar10-cnn-h8'];
const MiB = 2 ** 20;
const round = (v: number, d = 2) => Math.round(v * 10 ** d) / 10 ** d;
const rss = () => process.memoryUsage().rss;

// Unpacking is a one-time cost per machine; time it separately so the load figures are the steady state.
const t0 = performance.now();
await ensureCifar10Jpeg();
const ensureSeconds = (performance.now() - t0) / 1000;

Bun.gc(true);
const rss0 = rss();
const tTrain = performance.now();
const train = await loadCifar10Jpeg({ split: 'train', ...(quick ? { limit: 500 } : {}) });
const trainLoadSeconds = (performance.now() - tTrain) / 1000;
Bun.gc(true);
const rssTrain = rss();
const tTest = performance.now();
const test = await loadCifar10Jpeg({ split: 'test', ...(quick ? { limit: 100 } : {}) });
const testLoadSeconds = (performance.now() - tTest) / 1000;
const loading = {
  unpackOrVerifySeconds: round(ensureSeconds),
  train: {
    images: train.count,
    seconds: round(trainLoadSeconds),
    imagesPerSec: Math.round(train.count / trainLoadSeconds),
    decodedMiB: round(train.images.byteLength / MiB, 1),
    rssGrowthMiB: round((rssTrain - rss0) / MiB, 1),
  },
  test: {
    images: test.count,
    seconds: round(testLoadSeconds),
    decodedMiB: round(test.images.byteLength / MiB, 1),
  },
  rssAfterBothMiB: round(rss() / MiB, 1),
};
console.log('loading', loading);

const models = [];
for (const name of MODELS) {
  const dir = join(import.meta.dir, '../models', name);
  if (!existsSync(join(dir, 'model.json'))) {
    console.warn(`skipping ${name}: not trained yet`);
    continue;
  }
  const { manifest, tensors } = await loadModelDir(dir);
  const net = new Sequential(manifest.input.shape, manifest.layers, tensors);
  accuracy(
    net,
    test,
    Uint32Array.from({ length: 256 }, (_, i) => i),
  ); // warm-up (wasm tiers, arenas)
  const tEval = performance.now();
  const acc = accuracy(net, test);
  const evalSeconds = (performance.now() - tEval) / 1000;
  // Training throughput: a copy of the trained weights, one short epoch over the first images.
  const steps = quick ? 4 : 40;
  const copy = new Sequential(net.inputShape, net.layers, new Map(net.params));
  const part = { ...train, count: Math.min(train.count, steps * 64) };
  const tTrainStep = performance.now();
  await trainEpoch(
    copy,
    adam({ lr: 1e-4 }),
    part,
    { epochs: 1, batchSize: 64, seed: 1, schedule: 'constant', augment: { pad: 4, flip: true } },
    0,
  );
  const trainSeconds = (performance.now() - tTrainStep) / 1000;
  const finetune = manifest.provenance.finetune as
    { secondsPerEpoch?: number; threads?: number } | undefined;
  const row = {
    model: name,
    storedParameters: net.parameterCount(),
    testAccuracy: acc.accuracy,
    testImages: acc.count,
    evalSeconds: round(evalSeconds),
    evalImagesPerSec: Math.round(acc.count / evalSeconds),
    trainImagesPerSec: Math.round(part.count / trainSeconds),
    trainImages: part.count,
    // A trained model records its epochs at the top of provenance; a converted one under provenance.finetune.
    recordedSecondsPerEpoch: manifest.provenance.secondsPerEpoch ?? finetune?.secondsPerEpoch,
    recordedThreads: manifest.provenance.threads ?? finetune?.threads,
  };
  console.log(row);
  models.push(row);
}

const machine = machineInfo();
const report = {
  date: new Date().toISOString(),
  command: `bun run bench:cifar${quick ? ' -- --quick' : ''}`,
  note:
    'CIFAR-10 (JPEG) from ../shared/datasets/cifar10-jpeg.tar.gz, decoded with jpeg-js to float32 CHW in [0, 1]. ' +
    'rssGrowthMiB: resident memory after decoding the training split minus before (after a full GC). Evaluation and ' +
    'training: wasm backend, one thread, batch 256 (eval) and 64 (train, Adam, crop 4 + flip). recordedSecondsPerEpoch ' +
    "is from the model's provenance (its training run, which may have shared the machine with other jobs).",
  machine,
  source: sourceRevision(),
  loading,
  models,
};
const dir = join(import.meta.dir, 'results');
mkdirSync(dir, { recursive: true });
const file = freshFile(
  join(
    dir,
    `${new Date().toISOString().slice(0, 10)}-cifar-${machine.runtime.split(' ')[0]}${quick ? '-quick' : ''}.json`,
  ),
);
await writeFileAtomic(file, JSON.stringify(report, null, 2) + '\n');
console.log(`wrote ${file}`);

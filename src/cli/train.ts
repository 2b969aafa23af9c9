// `hashguard train`: train an architecture on a dataset with seeded shuffling, live progress, an atomic
// checkpoint after every epoch, --resume, and a model directory (model.json + weights.safetensors) at the end.
import { basename, join } from 'node:path';
import { existsSync } from 'node:fs';
import { DATASET_NAMES, loadDataset, type DatasetName } from '../data/index.ts';
import { loadCheckpoint, saveCheckpoint } from '../io/checkpoint.ts';
import { saveModelDir } from '../io/model-dir.ts';
import { architecture, type ArchName } from '../nn/architectures.ts';
import { accuracy } from '../nn/evaluate.ts';
import { initParams } from '../nn/init.ts';
import { optimizerFromConfig, type OptimizerConfig } from '../nn/optimizers.ts';
import { Sequential } from '../nn/sequential.ts';
import { trainEpoch, type LrSchedule } from '../nn/train.ts';
import { choice, number, parse, requireString, UsageError } from './args.ts';
import { machineInfo } from './machine.ts';
import { formatDuration, progressSink } from './progress.ts';

export const trainUsage = `usage: bun run train -- --arch mlp|lenet5 --dataset mnist|fashion-mnist|synthetic --epochs N --seed S --out models/NAME
  [--optimizer adam|sgd] [--lr X] [--momentum X] [--weight-decay X] [--batch-size N] [--schedule cosine|constant]
  [--train-limit N] [--checkpoint PATH] [--resume]`;

/** Thrown from the step callback when SIGINT arrives: the run stops between steps, checkpoints intact. */
class Interrupted extends Error {}

export async function trainCommand(argv: string[]): Promise<void> {
  const v = parse(argv, {
    arch: { type: 'string' }, dataset: { type: 'string' }, epochs: { type: 'string' }, seed: { type: 'string' },
    out: { type: 'string' }, optimizer: { type: 'string' }, lr: { type: 'string' }, momentum: { type: 'string' },
    'weight-decay': { type: 'string' }, 'batch-size': { type: 'string' }, schedule: { type: 'string' },
    'train-limit': { type: 'string' }, checkpoint: { type: 'string' }, resume: { type: 'boolean' },
  });
  const arch = choice<ArchName>(v, 'arch', ['mlp', 'lenet5'], 'mlp');
  const datasetName = choice<DatasetName>(v, 'dataset', DATASET_NAMES, 'mnist');
  const epochs = number(v, 'epochs', 10, { integer: true, min: 1, max: 10000 });
  const seed = number(v, 'seed', 1, { integer: true, min: 0, max: 2 ** 32 - 1 });
  const out = requireString(v, 'out');
  const batchSize = number(v, 'batch-size', 64, { integer: true, min: 1, max: 65536 });
  const schedule = choice<LrSchedule>(v, 'schedule', ['cosine', 'constant'], 'cosine');
  const kind = choice(v, 'optimizer', ['adam', 'sgd'] as const, 'adam');
  const weightDecay = number(v, 'weight-decay', 0, { min: 0, max: 1 });
  const optimizerConfig: OptimizerConfig =
    kind === 'adam'
      ? { kind, lr: number(v, 'lr', 1e-3, { min: 0, max: 10 }), beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay }
      : { kind, lr: number(v, 'lr', 0.05, { min: 0, max: 10 }), momentum: number(v, 'momentum', 0.9, { min: 0, max: 1 }), weightDecay };
  const trainLimit = number(v, 'train-limit', 0, { integer: true, min: 0 });
  const ckptPath = (v.checkpoint as string | undefined) ?? join('checkpoints', `${basename(out)}.ckpt.safetensors`);
  const sink = progressSink(process.stderr);

  const data = await loadDataset(datasetName, { seed });
  const train = trainLimit > 0 ? { ...data.train, count: Math.min(trainLimit, data.train.count) } : data.train;
  const layers = architecture(arch, data.train.shape, data.train.classes.length);
  // Everything that must match for a resumed run to equal an uninterrupted one.
  const config = { arch, dataset: datasetName, datasetSha256: data.train.sha256, epochs, seed, batchSize, schedule, optimizer: optimizerConfig, trainCount: train.count };

  const model = new Sequential(data.train.shape, layers, initParams(layers, seed));
  const optimizer = optimizerFromConfig(optimizerConfig);
  let history: { epoch: number; loss: number; accuracy: number; seconds: number }[] = [];
  if (v.resume) {
    if (!existsSync(ckptPath)) throw new UsageError(`--resume: no checkpoint at ${ckptPath}`);
    const ck = await loadCheckpoint(ckptPath);
    if (JSON.stringify(ck.state.config) !== JSON.stringify(config)) {
      throw new UsageError(`--resume: ${ckptPath} was written with other settings:\n  checkpoint ${JSON.stringify(ck.state.config)}\n  now        ${JSON.stringify(config)}`);
    }
    model.params = new Map(model.parameterNames().map((n) => [n, ck.params.get(n)!]));
    // Sequential's constructor re-checks every tensor shape against the layers.
    new Sequential(data.train.shape, layers, model.params);
    optimizer.loadState(ck.optState);
    history = ck.state.history;
    sink.log(`resumed from ${ckptPath} after epoch ${ck.state.epochsDone}`);
  }

  let interrupted = false;
  const onSigint = () => { interrupted = true; };
  process.on('SIGINT', onSigint);
  const opts = { epochs, batchSize, seed, schedule };
  const t0 = performance.now();
  try {
    for (let epoch = history.length; epoch < epochs; epoch++) {
      const r = await trainEpoch(model, optimizer, train, opts, epoch, async (p) => {
        sink.update(
          `epoch ${p.epoch + 1}/${p.epochs} step ${p.step}/${p.steps} loss ${p.loss.toFixed(4)} acc ${(100 * p.accuracy).toFixed(2)}% ` +
            `${p.imagesPerSec.toFixed(0)} img/s ETA ${formatDuration(p.etaSec)}`,
          p.step / p.steps,
        );
        // Yield to the event loop so SIGINT can be seen between steps.
        await new Promise((resolve) => setImmediate(resolve));
        if (interrupted) throw new Interrupted();
      });
      history.push(r);
      await saveCheckpoint(ckptPath, model.params, optimizer.state(), { epochsDone: epoch + 1, config, history });
      const test = accuracy(model, data.test);
      sink.log(`epoch ${epoch + 1}/${epochs} loss ${r.loss.toFixed(4)} train ${(100 * r.accuracy).toFixed(2)}% test ${(100 * test.accuracy).toFixed(2)}% (${formatDuration(r.seconds)}) checkpoint ${ckptPath}`);
    }
  } catch (e) {
    if (e instanceof Interrupted) {
      sink.log(`interrupted: the last checkpoint (${history.length} epochs) is intact at ${ckptPath}; continue with --resume`);
      process.exitCode = 130;
      return;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
  }

  const test = accuracy(model, data.test);
  const secondsPerEpoch = history.reduce((s, h) => s + h.seconds, 0) / history.length;
  const manifest = await saveModelDir(out, {
    format: 1,
    name: basename(out),
    input: { shape: data.train.shape, range: [0, 1] },
    classes: data.train.classes,
    layers,
    defense: null,
    provenance: {
      dataset: { name: datasetName, sha256: data.train.sha256, trainCount: train.count, testCount: data.test.count },
      seed,
      epochs,
      command: `bun run train -- ${argv.join(' ')}`,
      arch,
      batchSize,
      schedule,
      optimizer: optimizerConfig,
      secondsPerEpoch: Math.round(secondsPerEpoch * 10) / 10,
      machine: machineInfo(),
      history,
    },
    metrics: { testAccuracy: test.accuracy, testCount: test.count },
  }, model.params);
  sink.log(`saved ${out}: test accuracy ${(100 * test.accuracy).toFixed(2)}% on ${test.count} images, ${model.parameterCount()} parameters, ` +
    `weights sha256 ${manifest.weights.sha256.slice(0, 12)}… (${formatDuration((performance.now() - t0) / 1000)})`);
}

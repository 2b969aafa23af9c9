// `hashguard train`: train an architecture (dense, or HashedNets with --hash) on a dataset with seeded
// shuffling, live progress, an atomic checkpoint per epoch, --resume, and a model directory at the end.
import { basename } from 'node:path';
import { existsSync } from 'node:fs';
import { loadCheckpoint, loadModelDir, saveModelDir } from '../io/index.ts';
import {
  type LayerSpec,
  ARCH_NAMES,
  architecture,
  type ArchName,
  accuracy,
  hashLayers,
  weightedLayerCount,
  initParams,
  Sequential,
} from '../nn/index.ts';
import { inputConvention, sampleDataset } from '../data/index.ts';
import { flags, choice, number, parse, requireString, UsageError } from './args.ts';
import { dataOptions, trainDataUsage, trainingData, trainingDataFlags } from './data-flags.ts';
import { TRAIN_BACKEND_NAMES, useTrainBackend } from './backend-flag.ts';
import { hashSeeds } from './hash-seeds.ts';
import { threadsFlag } from './threads-flag.ts';
import { machineInfo } from './machine.ts';
import { guardModelDir } from './output-guard.ts';
import { formatDuration, progressFromFlags, progressOptions, progressUsage } from './progress.ts';
import { listenForStop, resumeCommand, STOPPED_EXIT_CODE } from './stop.ts';
import { outcomeRecord, trainWithFlags } from './run-training.ts';
import {
  adversarialOptions,
  adversarialUsage,
  robustTrainingFlags,
  robustTrainingRecord,
  splitValidation,
} from './adversarial-flags.ts';
import {
  augmentFlag,
  batchFlags,
  checkpointFlag,
  compressionsFlag,
  optimizerFlags,
  optimizerOptions,
} from './training-flags.ts';
import { setExitCode } from '../runtime/index.ts';

export const trainUsage = `usage: bun run train -- --arch mlp|lenet5|cnn|small-cnn|ibp-small (--dataset mnist|fashion-mnist|cifar10-jpeg|cifar10|synthetic | --data DIR) --epochs N --seed S --out models/NAME
${trainDataUsage}
  [--hash 1/8 | --hash 1/8,1/8,dense,...] [--secret-seed] [--widths 300,100 (mlp) | 6,16,120,84 (lenet5) | 32,32,64,64,256 (cnn) | 16,32,100 (small-cnn, ibp-small)]
  [--optimizer adam|sgd] [--lr X] [--momentum X] [--weight-decay X] [--batch-size N] [--schedule cosine|constant|one-cycle]
${adversarialUsage}
  [--augment crop:2 | crop:4,flip | none] [--train-limit N] [--checkpoint PATH] [--resume] [--backend wasm|reference|webgpu|auto] [--threads N]
  [--distill models/TEACHER [--distill-temperature 4] [--distill-weight 0.9]]   (knowledge distillation; one thread)
  [--force]   (replace an --out that already holds a model; without it that is refused before any work, --resume included)
${progressUsage}
  Ctrl-C or SIGTERM stops after the training step under way, writes the checkpoint with that step's position in its
  epoch, prints the command that continues the run (--resume) and exits 130.`;

export async function trainCommand(argv: string[]): Promise<void> {
  const v = parse(argv, {
    ...optimizerOptions,
    ...flags('arch dataset'),
    ...dataOptions,
    ...flags(
      'background epochs out train-limit augment hash widths distill distill-temperature distill-weight',
      'force',
    ),
    ...adversarialOptions,
    ...progressOptions,
  });
  const arch = choice<ArchName>(v, 'arch', ARCH_NAMES, 'mlp');
  const dataFlags = trainingDataFlags(v);
  const epochs = number(v, 'epochs', 10, { integer: true, min: 1, max: 10000 });
  const seed = number(v, 'seed', 1, { integer: true, min: 0, max: 2 ** 32 - 1 });
  const out = requireString(v, 'out');
  const { batchSize, schedule } = batchFlags(v);
  const optimizerConfig = optimizerFlags(v);
  const augment = augmentFlag(v);
  const robust = robustTrainingFlags(v, epochs);
  const trainLimit = number(v, 'train-limit', 0, { integer: true, min: 0 });
  const widths =
    typeof v.widths === 'string' ? v.widths.split(',').map((h) => Number(h)) : undefined;
  const expectedWidths = { mlp: 0, lenet5: 4, cnn: 5, 'small-cnn': 3, 'ibp-small': 3 }[arch];
  if (
    widths &&
    (widths.some((h) => !Number.isInteger(h) || h < 1) ||
      (expectedWidths > 0 && widths.length !== expectedWidths))
  ) {
    throw new UsageError(
      `--widths: expected positive integers (four for lenet5, five for cnn, three for small-cnn and ibp-small), got '${v.widths}'`,
    );
  }
  const checkpoint = checkpointFlag(v, out);
  const backendName = choice(v, 'backend', TRAIN_BACKEND_NAMES, 'wasm');
  // After the flags, before any work: a finished model is never replaced silently, not even by a --resume whose
  // checkpoint outlived its run (resuming into an --out without a model is what --resume is for).
  guardModelDir(out, Boolean(v.force));
  const { backend, description: backendDescription } = await useTrainBackend(backendName);
  const threads = threadsFlag(v, backend);
  if (robust.certified && threads > 1)
    throw new UsageError('--certified trains in one thread: add --threads 1');
  const sink = progressFromFlags(v);
  sink.log(`backend: ${backendDescription}`);

  const {
    data,
    name: datasetName,
    folder,
  } = await trainingData(dataFlags, seed, (l) => sink.log(l));
  const teacher =
    typeof v.distill === 'string'
      ? await loadTeacher(v, data.train.shape, data.train.classes.length, threads)
      : undefined;
  // The validation rows leave the training split first, so --train-limit never samples them.
  const split = splitValidation(data.train, robust.validationRows);
  // A seeded sample, not the first N: folder-ordered data (CIFAR-10 JPEG) would otherwise give one class.
  const train =
    trainLimit > 0 && trainLimit < split.train.count
      ? sampleDataset(split.train, trainLimit, seed)
      : split.train;
  let layers = architecture(arch, data.train.shape, data.train.classes.length, widths);
  if (typeof v.hash === 'string') {
    layers = hashLayers(
      layers,
      compressionsFlag('hash', v.hash, layers),
      hashSeeds(seed, weightedLayerCount(layers), Boolean(v['secret-seed'])),
    );
    // Secret seeds cannot be drawn again: a resumed secret-seed run takes its layers from the checkpoint.
    if (v.resume && v['secret-seed'] && existsSync(checkpoint))
      layers = (await loadCheckpoint(checkpoint)).state.config.layers as LayerSpec[];
  }
  // The layer list (hash seeds included) is part of the config, so a resume never mixes two hashings.
  const config = {
    arch,
    dataset: datasetName,
    datasetSha256: data.train.sha256,
    epochs,
    seed,
    batchSize,
    schedule,
    optimizer: optimizerConfig,
    trainCount: train.count,
    layers,
    ...(augment ? { augment } : {}),
    threads,
    ...(teacher ? { distill: teacher.record } : {}),
    ...robustTrainingRecord(robust, split.record),
  };
  const model = new Sequential(data.train.shape, layers, initParams(layers, seed));
  const t0 = performance.now();
  // Gradients are summed in shard order, so a run is reproducible for a given thread count (part of config).
  const outcome = await trainWithFlags({
    model,
    optimizer: optimizerConfig,
    train,
    validation: split.validation,
    robust,
    opts: {
      epochs,
      batchSize,
      seed,
      schedule,
      augment,
      ...(teacher ? { teacher: teacher.options } : {}),
    },
    threads,
    checkpoint,
    config,
    resume: Boolean(v.resume),
    sink,
    resumeCommand: resumeCommand('train', argv),
  });
  if (!outcome) return;
  const { history } = outcome;
  // The model directory is written whole: a signal from here on waits for it (the checkpoint stays either way).
  const stop = listenForStop(sink, 'once the model is saved');

  const test = accuracy(model, data.test);
  const manifest = await saveModelDir(
    out,
    {
      format: 1,
      name: basename(out),
      input: inputConvention(data.train),
      classes: data.train.classes,
      layers,
      defense: null,
      provenance: {
        dataset: {
          ...(folder ?? { name: datasetName, sha256: data.train.sha256 }),
          trainCount: train.count,
          testCount: data.test.count,
        },
        seed,
        epochs,
        command: `bun run train -- ${argv.join(' ')}`,
        arch,
        ...(typeof v.hash === 'string'
          ? { hash: { compression: v.hash, secretSeeds: Boolean(v['secret-seed']) } }
          : {}),
        batchSize,
        schedule,
        ...(augment ? { augment } : {}),
        ...(teacher ? { distill: teacher.record } : {}),
        ...robustTrainingRecord(robust, split.record),
        ...outcomeRecord(outcome, optimizerConfig, backend.name, threads),
        machine: machineInfo(),
        history,
      },
      metrics: { testAccuracy: test.accuracy, testCount: test.count },
    },
    model.params,
  );
  stop.dispose();
  outcome.progress.finish({ out, testAccuracy: test.accuracy, testCount: test.count });
  sink.log(
    `saved ${out}: test accuracy ${(100 * test.accuracy).toFixed(2)}% on ${test.count} images, ${model.parameterCount()} stored parameters, ` +
      `weights sha256 ${manifest.weights.sha256.slice(0, 12)}… (${formatDuration((performance.now() - t0) / 1000)})`,
  );
  if (stop.signal) setExitCode(STOPPED_EXIT_CODE);
}

/** --distill: the teacher model (checksummed load), checked against the data, and the distillation settings. */
async function loadTeacher(
  v: Record<string, unknown>,
  shape: number[],
  classes: number,
  threads: number,
) {
  const dir = v.distill as string;
  if (threads > 1) throw new UsageError('--distill runs in one thread: add --threads 1');
  const temperature = number(v, 'distill-temperature', 4, { min: 0.01, max: 1000 });
  const weight = number(v, 'distill-weight', 0.9, { min: 0, max: 1 });
  let loaded;
  try {
    loaded = await loadModelDir(dir);
  } catch (e) {
    throw new UsageError(`--distill ${dir}: ${(e as Error).message}`);
  }
  const { manifest, tensors } = loaded;
  if (manifest.defense && manifest.defense.stages.length)
    throw new UsageError(
      `--distill ${dir}: the teacher is a defended model; use its undefended source`,
    );
  if (manifest.input.shape.join('x') !== shape.join('x'))
    throw new UsageError(
      `--distill ${dir}: input shape ${manifest.input.shape.join('x')} does not match the data's ${shape.join('x')}`,
    );
  if (manifest.classes.length !== classes)
    throw new UsageError(
      `--distill ${dir}: ${manifest.classes.length} classes, the data has ${classes}`,
    );
  return {
    options: {
      model: new Sequential(manifest.input.shape, manifest.layers, tensors),
      temperature,
      weight,
    },
    record: {
      teacher: manifest.name,
      teacherWeightsSha256: manifest.weights.sha256,
      temperature,
      weight,
    },
  };
}

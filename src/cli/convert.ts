// `hashguard convert`: turn a trained dense model into a HashedNets model by least-squares projection onto
// the buckets (src/defense/hash-convert.ts), optionally fine-tune it, and write a new model directory.
import { basename, dirname, join } from 'node:path';
import { convertToHashed } from '../defense/index.ts';
import { loadModelDir, saveModelDir } from '../io/index.ts';
import { accuracy, weightedLayerCount, Sequential } from '../nn/index.ts';
import { flags, choice, number, parse, requireString, UsageError } from './args.ts';
import { dataOptions, modelData, modelDataUsage } from './data-flags.ts';
import { BACKEND_NAMES, useBackend } from './backend-flag.ts';
import { hashSeeds } from './hash-seeds.ts';
import { threadsFlag } from './threads-flag.ts';
import { machineInfo } from './machine.ts';
import { guardModelDir } from './output-guard.ts';
import { formatDuration, progressFromFlags, progressOptions, progressUsage } from './progress.ts';
import { resumeCommand } from './stop.ts';
import { outcomeRecord, trainWithFlags, type TrainingOutcome } from './run-training.ts';
import {
  augmentFlag,
  batchFlags,
  checkpointFlag,
  compressionsFlag,
  optimizerFlags,
  optimizerOptions,
} from './training-flags.ts';
import {
  adversarialOptions,
  adversarialUsage,
  robustTrainingFlags,
  robustTrainingRecord,
  splitValidation,
} from './adversarial-flags.ts';

export const convertUsage = `usage: bun run convert -- --from models/NAME --compression 1/8 [--finetune-epochs N] [--out models/NAME-h8]
  [--seed S] [--secret-seed] [--optimizer adam|sgd] [--lr X] [--batch-size N] [--schedule cosine|constant|one-cycle] [--checkpoint PATH] [--resume]
  [--backend wasm|reference] [--threads N] [--augment crop:4,flip]   (--augment: fine-tuning batches, as in train)
${adversarialUsage}   (fine-tuning only)
  [--force]   (replace an --out that already holds a model; without it that is refused before any work)
${modelDataUsage('0.1 by --seed')}
${progressUsage}`;

export async function convertCommand(argv: string[]): Promise<void> {
  const v = parse(argv, {
    ...optimizerOptions,
    ...flags('from compression out finetune-epochs augment', 'force'),
    ...adversarialOptions,
    ...dataOptions,
    ...progressOptions,
  });
  const from = requireString(v, 'from');
  const spec = requireString(v, 'compression');
  const epochs = number(v, 'finetune-epochs', 0, { integer: true, min: 0, max: 10000 });
  const augment = augmentFlag(v);
  if (augment && epochs === 0)
    throw new UsageError('--augment applies to fine-tuning: give --finetune-epochs N');
  if (typeof v.adversarial === 'string' && epochs === 0)
    throw new UsageError('--adversarial applies to fine-tuning: give --finetune-epochs N');
  const robust = robustTrainingFlags(v, Math.max(epochs, 1));
  const backend = useBackend(choice(v, 'backend', BACKEND_NAMES, 'wasm'));
  const tag = /^1\/\d+$/.test(spec) ? `h${spec.slice(2)}` : 'hashed';
  const out =
    (v.out as string | undefined) ??
    join(dirname(from), `${basename(from)}-${tag}${epochs ? `-ft${epochs}` : ''}`);
  guardModelDir(out, Boolean(v.force));
  const t0 = performance.now();
  const source = await loadModelDir(from);
  const seed = number(v, 'seed', source.manifest.provenance.seed, {
    integer: true,
    min: 0,
    max: 2 ** 32 - 1,
  });
  const { layers: denseLayers } = source.manifest;
  const compressions = compressionsFlag('compression', spec, denseLayers);
  const threads = threadsFlag(v, backend);
  if (robust.certified && threads > 1)
    throw new UsageError('--certified trains in one thread: add --threads 1');
  const sink = progressFromFlags(v);

  const converted = convertToHashed(
    denseLayers,
    source.tensors,
    compressions,
    hashSeeds(seed, weightedLayerCount(denseLayers), Boolean(v['secret-seed'])),
  );
  const model = new Sequential(source.manifest.input.shape, converted.layers, converted.params);
  // Fine-tuning needs training images: a folder the source model never saw is split by --seed, 10% held out.
  const { data, folder } = await modelData(
    v,
    { dir: from, manifest: source.manifest },
    { seed, allByDefault: false, log: (l) => sink.log(l) },
  );
  if (epochs > 0 && data.train.count === 0)
    throw new UsageError('--finetune-epochs: the data has no training images (--val-split 1)');
  const projected = accuracy(model, data.test);
  sink.log(
    `projected onto buckets: test accuracy ${(100 * projected.accuracy).toFixed(2)}% (dense ${(100 * source.manifest.metrics.testAccuracy).toFixed(2)}%)`,
  );

  const { batchSize, schedule } = batchFlags(v);
  const optimizerConfig = optimizerFlags(v);
  let outcome: TrainingOutcome | null = null;
  const split = epochs > 0 ? splitValidation(data.train, robust.validationRows) : null;
  const robustRecord = split ? robustTrainingRecord(robust, split.record) : {};
  if (epochs > 0 && split) {
    const config = {
      from: source.manifest.weights.sha256,
      layers: converted.layers,
      epochs,
      seed,
      batchSize,
      schedule,
      optimizer: optimizerConfig,
      threads,
      ...(augment ? { augment } : {}),
      ...robustRecord,
    };
    outcome = await trainWithFlags({
      model,
      optimizer: optimizerConfig,
      train: split.train,
      validation: split.validation,
      robust,
      opts: { epochs, batchSize, seed, schedule, augment },
      threads,
      checkpoint: checkpointFlag(v, out),
      config,
      resume: Boolean(v.resume),
      sink,
      resumeCommand: resumeCommand('convert', argv),
      task: 'convert',
    });
    if (!outcome) return;
  }
  const history = outcome?.history ?? [];

  const test = epochs > 0 ? accuracy(model, data.test) : projected;
  const manifest = await saveModelDir(
    out,
    {
      format: 1,
      name: basename(out),
      input: source.manifest.input,
      classes: source.manifest.classes,
      layers: converted.layers,
      defense: null,
      provenance: {
        dataset: folder
          ? {
              ...folder,
              trainCount: split?.train.count ?? data.train.count,
              testCount: data.test.count,
            }
          : source.manifest.provenance.dataset,
        seed,
        epochs,
        command: `bun run convert -- ${argv.join(' ')}`,
        convertedFrom: {
          name: source.manifest.name,
          weightsSha256: source.manifest.weights.sha256,
          testAccuracy: source.manifest.metrics.testAccuracy,
        },
        hash: { compression: spec, secretSeeds: Boolean(v['secret-seed']) },
        ...(epochs > 0
          ? {
              finetune: {
                epochs,
                batchSize,
                schedule,
                ...(augment ? { augment } : {}),
                ...robustRecord,
                ...outcomeRecord(outcome!, optimizerConfig, backend.name, threads),
                history,
              },
            }
          : {}),
        machine: machineInfo(),
      },
      metrics: {
        testAccuracy: test.accuracy,
        testCount: test.count,
        projectedTestAccuracy: projected.accuracy,
      },
    },
    model.params,
  );
  outcome?.progress.finish({ out, testAccuracy: test.accuracy, testCount: test.count });
  sink.log(
    `saved ${out}: test accuracy ${(100 * test.accuracy).toFixed(2)}%, ${model.parameterCount()} stored parameters, ` +
      `weights sha256 ${manifest.weights.sha256.slice(0, 12)}… (${formatDuration((performance.now() - t0) / 1000)})`,
  );
}

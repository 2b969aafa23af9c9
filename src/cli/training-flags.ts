// The training flags train and convert share (optimizer, batch size and schedule, augmentation, checkpoints,
// compression specs, seeds, backend, threads): their one home. The adversarial-training flags are
// adversarial-flags.ts'.
import { basename, join } from 'node:path';
import {
  parseAugment,
  parseCompressions,
  weightedLayerCount,
  type Augment,
  type Compressions,
  type LayerSpec,
  type LrSchedule,
  type OptimizerConfig,
} from '../nn/index.ts';
import { flags, choice, number, UsageError } from './args.ts';

/** Reads the optimizer flags shared by train and convert. */
export function optimizerFlags(v: Record<string, unknown>): OptimizerConfig {
  const kind = choice(v, 'optimizer', ['adam', 'sgd'] as const, 'adam');
  const weightDecay = number(v, 'weight-decay', 0, { min: 0, max: 1 });
  return kind === 'adam'
    ? {
        kind,
        lr: number(v, 'lr', 1e-3, { min: 0, max: 10 }),
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weightDecay,
      }
    : {
        kind,
        lr: number(v, 'lr', 0.05, { min: 0, max: 10 }),
        momentum: number(v, 'momentum', 0.9, { min: 0, max: 1 }),
        weightDecay,
      };
}

/** Reads --augment (shared by train and convert's fine-tuning); absent or 'none' = no augmentation. */
export function augmentFlag(v: Record<string, unknown>): Augment | undefined {
  try {
    return typeof v.augment === 'string' && v.augment !== 'none'
      ? parseAugment(v.augment)
      : undefined;
  } catch (e) {
    throw new UsageError(`--augment: ${(e as Error).message}`);
  }
}

/** --batch-size and --schedule, shared by train and convert's fine-tuning. */
export function batchFlags(v: Record<string, unknown>): {
  batchSize: number;
  schedule: LrSchedule;
} {
  return {
    batchSize: number(v, 'batch-size', 64, { integer: true, min: 1, max: 65536 }),
    schedule: choice<LrSchedule>(v, 'schedule', ['cosine', 'constant', 'one-cycle'], 'cosine'),
  };
}

/** --checkpoint; absent = checkpoints/<the --out folder's name>.ckpt.safetensors. */
export function checkpointFlag(v: Record<string, unknown>, out: string): string {
  return (
    (v.checkpoint as string | undefined) ?? join('checkpoints', `${basename(out)}.ckpt.safetensors`)
  );
}

/** A compression spec (train's --hash, convert's --compression) for `layers`' weighted layers. */
export function compressionsFlag(
  flag: string,
  spec: string,
  layers: readonly LayerSpec[],
): Compressions {
  try {
    return parseCompressions(spec, weightedLayerCount(layers));
  } catch (e) {
    throw new UsageError(`--${flag}: ${(e as Error).message}`);
  }
}

/** The flags train and convert share: optimizer, batches and schedule, checkpoints, seeds, backend and threads. */
export const optimizerOptions = flags(
  'optimizer lr momentum weight-decay batch-size schedule checkpoint seed backend threads',
  'resume secret-seed',
);

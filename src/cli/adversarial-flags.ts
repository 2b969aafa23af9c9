// The robust-training flags shared by train and convert's fine-tuning: --adversarial or --certified, --eps-ramp,
// the held-out validation split (--validation) and the size of the per-epoch robust check (--robust-check).
import { validationSplit, type Dataset, type ValidationRecord } from '../data/index.ts';
import {
  formatAdversarial,
  formatCertified,
  parseAdversarial,
  parseCertified,
  type AdversarialSpec,
  type CertifiedSpec,
} from '../nn/index.ts';
import { flags, number, UsageError } from './args.ts';

export const adversarialOptions = flags('adversarial certified eps-ramp validation robust-check');

export const adversarialUsage = `  [--adversarial pgd:eps=E,steps=S,step=A | fgsm-rs:eps=E,alpha=A | trades:eps=E,steps=S,beta=B[,step=A]] [--eps-ramp EPOCHS]
  [--certified ibp:eps=E[,kappa=K][,margins=logits|last-layer] | crown-ibp:eps=E[,kappa=K] (certified training, one
    thread; κ ramps from 1 to K (default 0.5) with ε; margins=last-layer bounds the margins through the last layer
    as the verifier does (recommended; logits, the first recipe, is the default); crown-ibp mixes β·CROWN-IBP +
    (1 − β)·IBP with β falling from 1 to 0 over the ramp, for dense, conv, relu and flatten layers)]
  [--validation N (held-out training rows for per-epoch validation and collapse detection; default 5000, a tenth below 50,000 rows; 0 = none)]
  [--robust-check N (validation rows PGD-20 attacks, or the verifier certifies, after each robust epoch; default 1000)]`;

export interface RobustTraining {
  adversarial?: AdversarialSpec;
  certified?: CertifiedSpec;
  epsRampEpochs: number;
  /** Rows to hold out; null = the default for the data's size (defaultValidationRows). */
  validationRows: number | null;
  robustCheckRows: number;
}

/**
 * 5,000 rows (the literature's MNIST and CIFAR-10 hold-out) for 50,000 or more, else a tenth. `classes`, given for
 * class-grouped data (an image folder), which is held out per class: raised to one row per class when that still
 * leaves most rows for training.
 */
export function defaultValidationRows(trainCount: number, classes = 1): number {
  const rows = trainCount >= 50_000 ? 5000 : Math.floor(trainCount / 10);
  return rows > 0 && rows < classes && classes <= trainCount / 4 ? classes : rows;
}

/** Reads and checks the flags; `epochs` bounds the ramp. */
export function robustTrainingFlags(v: Record<string, unknown>, epochs: number): RobustTraining {
  let adversarial: AdversarialSpec | undefined;
  if (typeof v.adversarial === 'string') {
    try {
      adversarial = parseAdversarial(v.adversarial);
    } catch (e) {
      throw new UsageError(`--adversarial: ${(e as Error).message}`);
    }
  }
  let certified: CertifiedSpec | undefined;
  if (typeof v.certified === 'string') {
    if (adversarial) throw new UsageError('--certified and --adversarial do not combine: give one');
    try {
      certified = parseCertified(v.certified);
    } catch (e) {
      throw new UsageError(`--certified: ${(e as Error).message}`);
    }
  }
  const epsRampEpochs = number(v, 'eps-ramp', 0, { integer: true, min: 0, max: epochs });
  if (epsRampEpochs > 0 && !adversarial && !certified)
    throw new UsageError('--eps-ramp ramps the training radius: give --adversarial or --certified');
  const validationRows =
    v.validation === undefined
      ? null
      : number(v, 'validation', 0, { integer: true, min: 0, max: 1_000_000 });
  const robustCheckRows = number(v, 'robust-check', 1000, {
    integer: true,
    min: 1,
    max: 1_000_000,
  });
  if (adversarial && validationRows === 0)
    throw new UsageError(
      '--adversarial needs a validation split to detect catastrophic overfitting: drop --validation 0',
    );
  return {
    ...(adversarial ? { adversarial } : {}),
    ...(certified ? { certified } : {}),
    epsRampEpochs,
    validationRows,
    robustCheckRows,
  };
}

/** The run's training rows and validation split (none with --validation 0). */
export function splitValidation(
  train: Dataset,
  requested: number | null,
): { train: Dataset; validation: Dataset | null; record: ValidationRecord | null } {
  // Class-grouped rows are held out per class (validationSplit), so the default must reach every class.
  const grouped = train.labels.every((l, i) => i === 0 || l >= train.labels[i - 1]);
  const rows = requested ?? defaultValidationRows(train.count, grouped ? train.classes.length : 1);
  if (rows === 0) return { train, validation: null, record: null };
  if (rows >= train.count)
    throw new UsageError(`--validation ${rows}: the training split has only ${train.count} rows`);
  return validationSplit(train, rows);
}

/** What model.json's provenance and a checkpoint's config record of these flags. */
export function robustTrainingRecord(
  r: RobustTraining,
  validation: ValidationRecord | null,
): Record<string, unknown> {
  return {
    ...(validation ? { validation } : {}),
    ...(r.adversarial
      ? {
          adversarial: {
            method: formatAdversarial(r.adversarial),
            ...r.adversarial,
            epsRampEpochs: r.epsRampEpochs,
            robustCheckRows: r.robustCheckRows,
          },
        }
      : {}),
    ...(r.certified
      ? {
          certified: {
            method: formatCertified(r.certified),
            ...r.certified,
            epsRampEpochs: r.epsRampEpochs,
            robustCheckRows: r.robustCheckRows,
          },
        }
      : {}),
  };
}

// The in-memory dataset shape every loader returns: images as one NCHW float32 block in [0,1], labels as bytes;
// and a seeded subsample of one.
import { deriveStream, permutation } from '../hash/index.ts';
import type { InputBackground, ModelManifest } from '../nn/index.ts';

/** One split of a labelled image dataset. */
export interface Dataset {
  /** Human-readable name, e.g. 'mnist/train'. */
  name: string;
  /** count × C × H × W float32 values in [0, 1], NCHW. */
  images: Float32Array;
  /** count class indices. */
  labels: Uint8Array;
  /** [C, H, W] of one image. */
  shape: [number, number, number];
  /** Class names, index = label. */
  classes: string[];
  count: number;
  /** sha256 (hex) of the source files, in a fixed order, for provenance; '' for synthetic data. */
  sha256: string;
  /**
   * Background of the images: 'dark' = light strokes on black (MNIST, Fashion-MNIST), 'any' = photos
   * (CIFAR-10). Absent = 'any'. Models record it in model.json input.background.
   */
  background?: InputBackground;
}

/** Train and test splits of one dataset. */
export interface DatasetSplits {
  train: Dataset;
  test: Dataset;
}

/**
 * `n` images drawn without replacement by a seeded permutation, kept in their original order. Used for
 * `--train-limit`: taking the first n would give a single class on folder-ordered data (CIFAR-10 JPEG).
 */
export function sampleDataset(ds: Dataset, n: number, seed: number): Dataset {
  if (!Number.isInteger(n) || n < 1 || n > ds.count)
    throw new RangeError(`sampleDataset: n must be an integer in [1, ${ds.count}], got ${n}`);
  const picked = permutation(deriveStream(seed, 0x6c696d74), ds.count).slice(0, n).sort(); // 'limt'
  const per = ds.shape[0] * ds.shape[1] * ds.shape[2];
  const images = new Float32Array(n * per),
    labels = new Uint8Array(n);
  picked.forEach((src, i) => {
    images.set(ds.images.subarray(src * per, (src + 1) * per), i * per);
    labels[i] = ds.labels[src];
  });
  return { ...ds, name: `${ds.name}[${n} sampled]`, images, labels, count: n };
}

/** The model.json `input` of a model trained on `ds`: its image shape, the [0, 1] range and its background. */
export function inputConvention(ds: Pick<Dataset, 'shape' | 'background'>): ModelManifest['input'] {
  return { shape: [...ds.shape], range: [0, 1], background: ds.background ?? 'any' };
}

/** Which training rows a validation split holds out, as model.json records it. */
export interface ValidationRecord {
  /** 'last' = the last `count` rows; 'last-per-class' = the last count/classes rows of each class. */
  rows: 'last' | 'last-per-class';
  count: number;
}

/**
 * Holds out a fixed validation split from the training rows: the last `n` rows, or, where the rows are grouped
 * by class (folder-ordered data such as CIFAR-10 JPEG, whose last 5,000 rows are all trucks), the last
 * n/classes rows of each class. Deterministic and seed-free: the same data always gives the same split. All
 * selection (early stopping, calibration, collapse detection) looks at it; the test split only reports.
 */
export function validationSplit(
  ds: Dataset,
  n: number,
): { train: Dataset; validation: Dataset; record: ValidationRecord } {
  if (!Number.isInteger(n) || n < 1 || n >= ds.count)
    throw new RangeError(
      `validation split: n must be an integer in [1, ${ds.count - 1}], got ${n}`,
    );
  const grouped = ds.labels.every((l, i) => i === 0 || l >= ds.labels[i - 1]);
  const held = new Uint8Array(ds.count);
  let rows: ValidationRecord['rows'] = 'last';
  if (grouped && ds.classes.length > 1) {
    rows = 'last-per-class';
    const per = Math.floor(n / ds.classes.length);
    if (per < 1)
      throw new RangeError(`validation split: ${n} rows cannot cover ${ds.classes.length} classes`);
    const taken = new Array<number>(ds.classes.length).fill(0);
    for (let i = ds.count - 1; i >= 0; i--)
      if (taken[ds.labels[i]] < per) {
        taken[ds.labels[i]]++;
        held[i] = 1;
      }
  } else held.fill(1, ds.count - n);
  const pick = (keep: number) => {
    const idx: number[] = [];
    for (let i = 0; i < ds.count; i++) if (held[i] === keep) idx.push(i);
    const per = ds.shape[0] * ds.shape[1] * ds.shape[2];
    const images = new Float32Array(idx.length * per),
      labels = new Uint8Array(idx.length);
    idx.forEach((src, i) => {
      images.set(ds.images.subarray(src * per, (src + 1) * per), i * per);
      labels[i] = ds.labels[src];
    });
    return { images, labels, count: idx.length };
  };
  const v = pick(1),
    t = pick(0);
  return {
    train: { ...ds, ...t, name: `${ds.name}[−${v.count} validation]` },
    validation: { ...ds, ...v, name: `${ds.name}[validation ${v.count}]` },
    record: { rows, count: v.count },
  };
}

/** Dataset names the CLI accepts. */
export const DATASET_NAMES = [
  'mnist',
  'fashion-mnist',
  'cifar10',
  'cifar10-jpeg',
  'synthetic',
] as const;
/** One of DATASET_NAMES. */
export type DatasetName = (typeof DATASET_NAMES)[number];

// The in-memory dataset shape every loader returns: images as one NCHW float32 block in [0,1], labels as bytes;
// and a seeded subsample of one.
import { deriveStream, permutation } from '../hash/rng.ts';
import type { InputBackground, ModelManifest } from '../nn/model-file.ts';

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
  if (!Number.isInteger(n) || n < 1 || n > ds.count) throw new RangeError(`sampleDataset: n must be an integer in [1, ${ds.count}], got ${n}`);
  const picked = permutation(deriveStream(seed, 0x6c696d74), ds.count).slice(0, n).sort(); // 'limt'
  const per = ds.shape[0] * ds.shape[1] * ds.shape[2];
  const images = new Float32Array(n * per), labels = new Uint8Array(n);
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

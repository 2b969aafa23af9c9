// A seeded synthetic image set for tests: each class is a fixed random prototype image, each sample its
// prototype plus Gaussian noise, clipped to [0, 1]. Learnable by a tiny model; every value is a function of
// (seed, counter) through the counter RNG, so the same seed gives the same bytes on every runtime.
import type { Dataset } from './dataset.ts';
import { deriveStream, normal, permutation, uniform } from '../hash/index.ts';

/** Options of syntheticDataset. */
export interface SyntheticOptions {
  count: number;
  /** [C, H, W] of one image. */
  shape: [number, number, number];
  /** Number of classes (named 'class-0'…) or the class names. */
  classes: number | string[];
  seed: number;
  name?: string;
  /** Splits share the prototypes but draw labels and noise from separate streams (default 'train'). */
  split?: 'train' | 'test';
  /** Standard deviation of the per-pixel noise (default 0.3). */
  noise?: number;
}

// Purpose tags for deriveStream (ASCII): one seed never feeds two uses the same draws.
const TAG_PROTOTYPE = 0x70726f74; // 'prot'
const TAG_LABELS = 0x6c61626c; // 'labl'
const TAG_NOISE = 0x6e6f6973; // 'nois'

/**
 * Builds `count` samples with balanced labels (class counts differ by at most one; the order is a seeded
 * shuffle). Same options → identical bytes; a different seed → different prototypes, labels and noise.
 * `sha256` is '' (no source files).
 */
export function syntheticDataset(options: SyntheticOptions): Dataset {
  const { count, shape, seed } = options;
  const split = options.split ?? 'train';
  const sigma = options.noise ?? 0.3;
  const classes =
    typeof options.classes === 'number'
      ? Array.from({ length: options.classes }, (_, i) => `class-${i}`)
      : [...options.classes];
  const k = classes.length;
  const per = shape[0] * shape[1] * shape[2];
  if (!(k >= 1 && k <= 256)) throw new RangeError(`syntheticDataset: ${k} classes (need 1..256)`);
  if (!(Number.isInteger(count) && count >= 0))
    throw new RangeError(`syntheticDataset: bad count ${count}`);
  // Counters are u32: keep every index below 2^32 so no two pixels share a draw.
  if (count * per > 2 ** 32 || k * per > 2 ** 32)
    throw new RangeError('syntheticDataset: too many values for one RNG stream');

  const protoStream = deriveStream(seed, TAG_PROTOTYPE);
  const prototypes = new Float32Array(k * per);
  for (let i = 0; i < prototypes.length; i++) prototypes[i] = uniform(protoStream, i);

  const splitTag = split === 'test' ? 2 : 1;
  const order = permutation(deriveStream(seed, TAG_LABELS + splitTag), count);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) labels[i] = order[i] % k;

  const noiseStream = deriveStream(seed, TAG_NOISE + splitTag);
  const images = new Float32Array(count * per);
  for (let i = 0; i < count; i++) {
    const proto = labels[i] * per;
    for (let p = 0; p < per; p++) {
      const v = prototypes[proto + p] + sigma * normal(noiseStream, i * per + p);
      images[i * per + p] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  return {
    name: options.name ?? `synthetic/${split}`,
    images,
    labels,
    shape: [...shape],
    classes,
    count,
    sha256: '',
  };
}

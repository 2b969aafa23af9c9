// CIFAR-10 (Krizhevsky 2009) in its "binary version": data_batch_1..5.bin and test_batch.bin, each a run of
// 3073-byte records (1 label byte, then 1024 R, 1024 G, 1024 B bytes: already planar CHW, row-major 32×32).
import type { Dataset, DatasetSplits } from './dataset.ts';
import { combineHashes, sha256Hex } from './checksum.ts';
import { CIFAR10_CLASSES } from './classes.ts';
import { parseCifar10Batch, type Cifar10Batch } from './cifar10-batch.ts';
import { DatasetError } from './dataset-error.ts';
import { readDataFiles } from './read-data-file.ts';
import { resolveSetting } from './paths.ts';
import { join } from 'node:path';

const PIXELS = 3 * 32 * 32;

/** Batch file names: five train batches, then the test batch. */
export const CIFAR10_TRAIN_FILES = [
  'data_batch_1.bin',
  'data_batch_2.bin',
  'data_batch_3.bin',
  'data_batch_4.bin',
  'data_batch_5.bin',
] as const;
/** The test batch file name. */
export const CIFAR10_TEST_FILE = 'test_batch.bin';

const HINT =
  'download the CIFAR-10 binary version (cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html), ' +
  'unpack it and pass its cifar-10-batches-bin folder as dir or in HASHGUARD_CIFAR10_DIR';

/** Options of loadCifar10Binary. */
export interface Cifar10BinaryOptions {
  /** Folder with the six .bin files (default: $HASHGUARD_CIFAR10_DIR). */
  dir?: string;
}

function concat(name: string, batches: Cifar10Batch[], sha256: string): Dataset {
  const count = batches.reduce((n, b) => n + b.count, 0);
  const images = new Float32Array(count * PIXELS);
  const labels = new Uint8Array(count);
  let at = 0;
  for (const b of batches) {
    images.set(b.images, at * PIXELS);
    labels.set(b.labels, at);
    at += b.count;
  }
  return {
    name,
    images,
    labels,
    shape: [3, 32, 32],
    classes: [...CIFAR10_CLASSES],
    count,
    sha256,
    background: 'any',
  }; // photos
}

/**
 * Loads CIFAR-10 train (the five data batches in order) and test splits, shape [3,32,32]. No checksums are
 * pinned (the files are not on this project's machines); `sha256` of both splits = sha256 of the
 * concatenated hex hashes of data_batch_1..5.bin then test_batch.bin.
 */
export async function loadCifar10Binary(
  options: Cifar10BinaryOptions = {},
): Promise<DatasetSplits> {
  const dir = resolveSetting(options.dir, 'HASHGUARD_CIFAR10_DIR', () => {
    throw new DatasetError('HASHGUARD_CIFAR10_DIR', `no CIFAR-10 binary folder given; ${HINT}`);
  });
  const paths = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE].map((f) => join(dir, f));
  const raw = await readDataFiles(paths, HINT);
  const sha256 = await combineHashes(await Promise.all(raw.map((b) => sha256Hex(b))));
  const batches = raw.map((b, i) => parseCifar10Batch(b, paths[i]));
  return {
    train: concat('cifar10/train', batches.slice(0, 5), sha256),
    test: concat('cifar10/test', batches.slice(5), sha256),
  };
}

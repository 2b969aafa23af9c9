// loadDataset(name): every built-in dataset by the name the CLI and the tests use, read from disk (or made, for
// 'synthetic').
import { loadCifar10Binary } from './cifar10-binary.ts';
import { loadCifar10JpegSplits } from './cifar10-jpeg.ts';
import { DATASET_NAMES, type DatasetName, type DatasetSplits } from './dataset.ts';
import { loadFashionMnist } from './fashion-mnist.ts';
import { loadMnist } from './mnist.ts';
import { syntheticDataset } from './synthetic.ts';

/** Options of loadDataset; each dataset reads the fields that concern it. */
export interface LoadDatasetOptions {
  /** Data folder: mnist, fashion-mnist, cifar10 (binary batches; else $HASHGUARD_CIFAR10_DIR). */
  dir?: string;
  /** Check pinned checksums (mnist, fashion-mnist; default true). */
  verify?: boolean;
  /** cifar10-jpeg: tarball path and cache folder (else $HASHGUARD_CIFAR10_TGZ, $HASHGUARD_CACHE_DIR). */
  tarball?: string;
  cacheDir?: string;
  /** cifar10-jpeg: at most this many images per class and split. */
  limit?: number;
  /** synthetic: seed (default 0), sizes (default 1000 / 200), shape (default [1,28,28]), classes (default 10). */
  seed?: number;
  trainCount?: number;
  testCount?: number;
  shape?: [number, number, number];
  classes?: number | string[];
}

/**
 * Loads a dataset by name: 'mnist', 'fashion-mnist', 'cifar10' (binary batches), 'cifar10-jpeg' (the
 * shared tarball) or 'synthetic'. Failures are DatasetErrors naming the file and what to install.
 */
export async function loadDataset(
  name: DatasetName,
  options: LoadDatasetOptions = {},
): Promise<DatasetSplits> {
  switch (name) {
    case 'mnist':
      return loadMnist({ dir: options.dir, verify: options.verify });
    case 'fashion-mnist':
      return loadFashionMnist({ dir: options.dir, verify: options.verify });
    case 'cifar10':
      return loadCifar10Binary({ dir: options.dir });
    case 'cifar10-jpeg':
      return loadCifar10JpegSplits({
        tarball: options.tarball,
        cacheDir: options.cacheDir,
        limit: options.limit,
      });
    case 'synthetic': {
      const base = {
        shape: options.shape ?? ([1, 28, 28] as [number, number, number]),
        classes: options.classes ?? 10,
        seed: options.seed ?? 0,
      };
      return {
        train: syntheticDataset({ ...base, count: options.trainCount ?? 1000, split: 'train' }),
        test: syntheticDataset({ ...base, count: options.testCount ?? 200, split: 'test' }),
      };
    }
    default:
      throw new RangeError(
        `unknown dataset '${String(name)}': expected one of ${DATASET_NAMES.join(', ')}`,
      );
  }
}

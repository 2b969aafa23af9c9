// Public door of src/data: the Dataset type, every loader, bounded image decoding (header limits, PNG, inflate),
// polarity and resizing, batching, and loadDataset(name) for the CLI.
import type { DatasetSplits } from './dataset.ts';
import { loadMnist } from './mnist.ts';
import { loadFashionMnist } from './fashion-mnist.ts';
import { loadCifar10Binary } from './cifar10-binary.ts';
import { loadCifar10JpegSplits } from './cifar10-jpeg.ts';
import { syntheticDataset } from './synthetic.ts';

export type { Dataset, DatasetSplits } from './dataset.ts';
export { sampleDataset, inputConvention, validationSplit, type ValidationRecord } from './dataset.ts';
export { DatasetError, readDataFile, readDataFiles } from './errors.ts';
export { sha256Hex, verifyKnownChecksum, combineHashes, KNOWN_CHECKSUMS } from './checksum.ts';
export { parseIdx, parseIdxImages, parseIdxLabels, type IdxTensor, type IdxImages } from './idx.ts';
export { loadMnist, defaultMnistDir, MNIST_FILES, MNIST_CLASSES, type MnistOptions } from './mnist.ts';
export {
  loadFashionMnist, fashionMnistDir, FASHION_MNIST_FILES, FASHION_MNIST_CLASSES, FASHION_MNIST_DEFAULT_DIR,
  FASHION_MNIST_INSTALL_HINT, type FashionMnistOptions,
} from './fashion-mnist.ts';
export { loadCifar10Binary, parseCifar10Batch, CIFAR10_CLASSES, type Cifar10BinaryOptions, type Cifar10Batch } from './cifar10-binary.ts';
export { decodeImage, toChannels, channelsRow, sniffImageFormat, type DecodedImage, type DecodeOptions, type ImageFormat } from './image-decode.ts';
export {
  readImageHeader, checkImageLimits, ImageLimitError, DEFAULT_IMAGE_LIMITS, type ImageHeader, type ImageLimits,
} from './image-header.ts';
export { decodePng, PngError, type PngDecodeOptions } from './png-decode.ts';
export { zlibInflateInto, inflateRawInto, adler32, InflateError, InflateOverflowError } from './inflate.ts';
export { crc32 } from './crc32.ts';
export { borderMean, shouldInvert } from './polarity.ts';
export { resizeCHW, RowResizer, defaultResizeMode, type ResizeMode } from './resize.ts';
export { loadImageFolder, type ImageFolderOptions } from './image-folder.ts';
export { readTar, type TarEntry } from './tar.ts';
export {
  ensureCifar10Jpeg, loadCifar10Jpeg, loadCifar10JpegSplits, cifar10JpegTarball, CIFAR10_JPEG_HINT,
  type Cifar10JpegOptions, type LoadCifar10JpegOptions,
} from './cifar10-jpeg.ts';
export { syntheticDataset, type SyntheticOptions } from './synthetic.ts';
export { subset } from './batch.ts';

/** Dataset names the CLI accepts. */
export const DATASET_NAMES = ['mnist', 'fashion-mnist', 'cifar10', 'cifar10-jpeg', 'synthetic'] as const;
/** One of DATASET_NAMES. */
export type DatasetName = (typeof DATASET_NAMES)[number];

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
export async function loadDataset(name: DatasetName, options: LoadDatasetOptions = {}): Promise<DatasetSplits> {
  switch (name) {
    case 'mnist': return loadMnist({ dir: options.dir, verify: options.verify });
    case 'fashion-mnist': return loadFashionMnist({ dir: options.dir, verify: options.verify });
    case 'cifar10': return loadCifar10Binary({ dir: options.dir });
    case 'cifar10-jpeg': return loadCifar10JpegSplits({ tarball: options.tarball, cacheDir: options.cacheDir, limit: options.limit });
    case 'synthetic': {
      const base = { shape: options.shape ?? [1, 28, 28] as [number, number, number], classes: options.classes ?? 10, seed: options.seed ?? 0 };
      return {
        train: syntheticDataset({ ...base, count: options.trainCount ?? 1000, split: 'train' }),
        test: syntheticDataset({ ...base, count: options.testCount ?? 200, split: 'test' }),
      };
    }
    default:
      throw new RangeError(`unknown dataset '${String(name)}': expected one of ${DATASET_NAMES.join(', ')}`);
  }
}

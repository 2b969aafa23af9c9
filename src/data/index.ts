// Public door of src/data, pure (no file access: browsers, edge workers): the Dataset type and its splits, the
// built-in class names, bounded image decoding (header limits, PNG, inflate), polarity and resizing, IDX and
// CIFAR-10 batch parsing, tar, synthetic data. The loaders that read files have their own door, node.ts.
export type { Dataset, DatasetSplits } from './dataset.ts';
export {
  sampleDataset,
  inputConvention,
  validationSplit,
  DATASET_NAMES,
  type DatasetName,
  type ValidationRecord,
} from './dataset.ts';
export { DatasetError } from './dataset-error.ts';
export { MNIST_CLASSES, FASHION_MNIST_CLASSES, CIFAR10_CLASSES } from './classes.ts';
export { sha256Hex, verifyKnownChecksum, combineHashes, KNOWN_CHECKSUMS } from './checksum.ts';
export { parseIdx, parseIdxImages, parseIdxLabels, type IdxTensor, type IdxImages } from './idx.ts';
export { parseCifar10Batch, type Cifar10Batch } from './cifar10-batch.ts';
export {
  decodeImage,
  toChannels,
  channelsRow,
  sniffImageFormat,
  type DecodedImage,
  type DecodeOptions,
  type ImageFormat,
} from './image-decode.ts';
export {
  readImageHeader,
  imageChannels,
  checkImageLimits,
  ImageLimitError,
  DEFAULT_IMAGE_LIMITS,
  type ImageHeader,
  type ImageLimits,
} from './image-header.ts';
export { decodePng, PngError, type PngDecodeOptions } from './png-decode.ts';
export { imageToInput, type ImagePreprocessing } from './image-input.ts';
export {
  zlibInflateInto,
  inflateRawInto,
  adler32,
  InflateError,
  InflateOverflowError,
} from './inflate.ts';
export { crc32 } from './crc32.ts';
export { borderMean, shouldInvert } from './polarity.ts';
export { resizeCHW, RowResizer, defaultResizeMode, type ResizeMode } from './resize.ts';
export { readTar, type TarEntry } from './tar.ts';
export { syntheticDataset, type SyntheticOptions } from './synthetic.ts';
export { splitPerClass, heldOutCount, fileKey, type FolderSplitRecord } from './folder-split.ts';
export { subset } from './batch.ts';

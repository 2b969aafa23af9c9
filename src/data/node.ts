// The file-reading door of src/data (Bun, Deno, Node): every dataset loader, loadDataset(name) for the CLI and
// the tests, ImageFolder trees of your own images, and the reads that turn IO failures into DatasetErrors.
export { loadDataset, type LoadDatasetOptions } from './load-dataset.ts';
export { readDataFile, readDataFiles } from './read-data-file.ts';
export { loadMnist, defaultMnistDir, MNIST_FILES, type MnistOptions } from './mnist.ts';
export {
  loadFashionMnist,
  fashionMnistDir,
  FASHION_MNIST_FILES,
  FASHION_MNIST_DEFAULT_DIR,
  FASHION_MNIST_INSTALL_HINT,
  type FashionMnistOptions,
} from './fashion-mnist.ts';
export { loadCifar10Binary, type Cifar10BinaryOptions } from './cifar10-binary.ts';
export {
  loadImageFolder,
  loadImageTree,
  type ImageFolderOptions,
  type ImageTree,
  type ImageTreeOptions,
  type ImageTreeRecord,
} from './image-folder.ts';
export {
  scanImageTree,
  IMAGE_EXTENSIONS,
  DEFAULT_MAX_IMAGES,
  type ImageTreeScan,
  type ClassFolder,
  type Skipped,
} from './image-folder-scan.ts';
export {
  ensureCifar10Jpeg,
  loadCifar10Jpeg,
  loadCifar10JpegSplits,
  cifar10JpegTarball,
  CIFAR10_JPEG_HINT,
  type Cifar10JpegOptions,
  type LoadCifar10JpegOptions,
} from './cifar10-jpeg.ts';

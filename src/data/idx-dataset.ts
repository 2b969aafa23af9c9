// The shared loader behind MNIST and Fashion-MNIST: four IDX files (train/test × images/labels), read and
// checksum-verified first, then parsed into two Datasets with one provenance hash.
import type { Dataset, DatasetSplits } from './dataset.ts';
import type { InputBackground } from '../nn/index.ts';
import { verifyKnownChecksum, combineHashes, sha256Hex } from './checksum.ts';
import { DatasetError } from './dataset-error.ts';
import { readDataFiles } from './read-data-file.ts';
import { parseIdxImages, parseIdxLabels } from './idx.ts';
import { join } from 'node:path';

/** How to find and decode one IDX-family dataset. */
export interface IdxDatasetSpec {
  /** Dataset id, the key into KNOWN_CHECKSUMS and the prefix of the split names. */
  id: string;
  dir: string;
  /** Basenames in the fixed order train images, train labels, test images, test labels. */
  files: readonly [string, string, string, string];
  classes: readonly string[];
  /** Background of the images (see Dataset.background). */
  background: InputBackground;
  /** Turns raw file bytes into IDX bytes (gunzip for .gz files). */
  decode?: (bytes: Uint8Array, file: string) => Uint8Array;
  /** Appended to "file not found" errors: what to install. */
  hint?: string;
  /** Check the pinned checksums (default true). */
  verify?: boolean;
}

function makeSplit(
  spec: IdxDatasetSpec,
  split: string,
  imgBytes: Uint8Array,
  imgPath: string,
  lblBytes: Uint8Array,
  lblPath: string,
  sha256: string,
): Dataset {
  const img = parseIdxImages(imgBytes, imgPath);
  const labels = parseIdxLabels(lblBytes, lblPath, spec.classes.length);
  if (labels.length !== img.count) {
    throw new DatasetError(
      lblPath,
      `has ${labels.length} labels but ${imgPath} has ${img.count} images`,
    );
  }
  return {
    name: `${spec.id}/${split}`,
    images: img.images,
    labels,
    shape: [1, img.rows, img.cols],
    classes: [...spec.classes],
    count: img.count,
    sha256,
    background: spec.background,
  };
}

/**
 * Loads the four files of `spec`. Every file is read and verified before any parsing, so a wrong or
 * missing file fails fast. Both splits carry the same sha256: combineHashes of the four file hashes in order.
 */
export async function loadIdxDataset(spec: IdxDatasetSpec): Promise<DatasetSplits> {
  const paths = spec.files.map((f) => join(spec.dir, f));
  const raw = await readDataFiles(paths, spec.hint);
  // Hashes are always computed for provenance; `verify: false` only skips the comparison with the pins.
  // One file at a time, so a mismatch always reports the first bad file in order.
  const hashes: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    hashes.push(
      await (spec.verify === false
        ? sha256Hex(raw[i])
        : verifyKnownChecksum(spec.id, paths[i], raw[i])),
    );
  }
  const sha256 = await combineHashes(hashes);
  const bytes = raw.map((b, i) => (spec.decode ? spec.decode(b, paths[i]) : b));
  return {
    train: makeSplit(spec, 'train', bytes[0], paths[0], bytes[1], paths[1], sha256),
    test: makeSplit(spec, 'test', bytes[2], paths[2], bytes[3], paths[3], sha256),
  };
}

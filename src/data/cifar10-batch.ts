// One CIFAR-10 binary batch file (3073-byte records: 1 label byte, then 1024 R, 1024 G, 1024 B bytes, already
// planar CHW, row-major 32×32) decoded: pure, no file access.
import { CIFAR10_CLASSES } from './classes.ts';
import { DatasetError } from './dataset-error.ts';
import { BYTE_TO_UNIT } from './idx.ts';

const PIXELS = 3 * 32 * 32;
const RECORD = 1 + PIXELS;

/** Decoded records of one batch file. */
export interface Cifar10Batch {
  images: Float32Array;
  labels: Uint8Array;
  count: number;
}

/** Parses one batch; its length must be a multiple of 3073 and every label < 10, else a DatasetError naming the file. */
export function parseCifar10Batch(bytes: Uint8Array, file: string): Cifar10Batch {
  if (bytes.length === 0 || bytes.length % RECORD !== 0) {
    throw new DatasetError(
      file,
      `length ${bytes.length} is not a positive multiple of the ${RECORD}-byte CIFAR-10 record ` +
        `(truncated or not a CIFAR-10 binary batch)`,
    );
  }
  const count = bytes.length / RECORD;
  const images = new Float32Array(count * PIXELS);
  const labels = new Uint8Array(count);
  for (let r = 0; r < count; r++) {
    const off = r * RECORD;
    const label = bytes[off];
    if (label >= CIFAR10_CLASSES.length) {
      throw new DatasetError(
        file,
        `record ${r}: label ${label} is out of range (expected < ${CIFAR10_CLASSES.length})`,
      );
    }
    labels[r] = label;
    const dst = r * PIXELS;
    for (let i = 0; i < PIXELS; i++) images[dst + i] = BYTE_TO_UNIT[bytes[off + 1 + i]];
  }
  return { images, labels, count };
}

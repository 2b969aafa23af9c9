// The IDX file format of MNIST and Fashion-MNIST (yann.lecun.com/exdb/mnist): a 4-byte magic
// (0, 0, dtype, rank), `rank` big-endian u32 dimensions, then the raw data. Only dtype 0x08 (u8) is used.
import { DatasetError } from './dataset-error.ts';

const DTYPE_UBYTE = 0x08;

/** A parsed IDX tensor: its dimensions and its raw unsigned bytes (a view into the input). */
export interface IdxTensor {
  dims: number[];
  data: Uint8Array;
}

/** 255 → 1 lookup: x/255 rounded to f32 once, so every loader maps a byte to the very same float. */
export const BYTE_TO_UNIT: Float32Array = (() => {
  const t = new Float32Array(256);
  for (let i = 0; i < 256; i++) t[i] = i / 255;
  return t;
})();

function hex32(v: number): string {
  return '0x' + (v >>> 0).toString(16).padStart(8, '0');
}

/**
 * Parses an unsigned-byte IDX buffer of the given rank. Throws a DatasetError naming `file` for a bad magic,
 * a dtype other than 0x08, a wrong rank, or a length that is not exactly header + product(dims).
 */
export function parseIdx(bytes: Uint8Array, file: string, rank: number): IdxTensor {
  const expectedMagic = (DTYPE_UBYTE << 8) | rank;
  const headerLen = 4 + 4 * rank;
  if (bytes.length < 4) {
    throw new DatasetError(
      file,
      `truncated: expected at least ${headerLen} header bytes, got ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DatasetError(
      file,
      `bad IDX magic ${hex32(magic)}: expected ${hex32(expectedMagic)} (not an IDX file?)`,
    );
  }
  if (bytes[2] !== DTYPE_UBYTE) {
    const dt = '0x' + bytes[2].toString(16).padStart(2, '0');
    throw new DatasetError(
      file,
      `unsupported IDX dtype ${dt}: only 0x08 (unsigned byte) is supported`,
    );
  }
  if (bytes[3] !== rank) {
    throw new DatasetError(
      file,
      `bad IDX magic ${hex32(magic)}: expected ${hex32(expectedMagic)} (rank ${rank}, got rank ${bytes[3]})`,
    );
  }
  if (bytes.length < headerLen) {
    throw new DatasetError(
      file,
      `truncated: expected at least ${headerLen} header bytes, got ${bytes.length}`,
    );
  }
  const dims: number[] = [];
  let total = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    total *= d;
  }
  const expected = headerLen + total;
  if (bytes.length < expected) {
    throw new DatasetError(
      file,
      `truncated: expected ${expected} bytes, got ${bytes.length} (dims ${dims.join('×')})`,
    );
  }
  if (bytes.length > expected) {
    throw new DatasetError(
      file,
      `${bytes.length - expected} trailing bytes: expected ${expected} bytes, got ${bytes.length} (dims ${dims.join('×')})`,
    );
  }
  return { dims, data: bytes.subarray(headerLen, expected) };
}

/** Parsed IDX images: count × rows × cols floats in [0, 1] (x/255). */
export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  images: Float32Array;
}

/** Parses an IDX image file (magic 0x00000803) into float32 pixels in [0, 1]. */
export function parseIdxImages(bytes: Uint8Array, file: string): IdxImages {
  const { dims, data } = parseIdx(bytes, file, 3);
  const images = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) images[i] = BYTE_TO_UNIT[data[i]];
  return { count: dims[0], rows: dims[1], cols: dims[2], images };
}

/** Parses an IDX label file (magic 0x00000801); labels ≥ `numClasses` are an error naming the index. */
export function parseIdxLabels(bytes: Uint8Array, file: string, numClasses: number): Uint8Array {
  const { data } = parseIdx(bytes, file, 1);
  for (let i = 0; i < data.length; i++) {
    if (data[i] >= numClasses) {
      throw new DatasetError(
        file,
        `label ${data[i]} at index ${i} is out of range (expected < ${numClasses})`,
      );
    }
  }
  return data.slice(); // own the bytes: the input buffer may be large and reused
}

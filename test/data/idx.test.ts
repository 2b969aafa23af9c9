// IDX parsing: valid files and every malformed case named in the error.
import { test, expect, describe, afterAll } from 'bun:test';
import { parseIdx, parseIdxImages, parseIdxLabels, DatasetError } from '../../src/data/index.ts';
import { loadMnist } from '../../src/data/node.ts';
import { tempDir, removeTempDirs } from './helpers.ts';
import { join } from 'node:path';

afterAll(removeTempDirs);

/** IDX bytes: magic (0, 0, dtype, rank), big-endian dims, then the payload. */
function idx(dims: number[], payload: number[], dtype = 0x08, rank = dims.length): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + payload.length);
  const v = new DataView(out.buffer);
  out.set([0, 0, dtype, rank]);
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  out.set(payload, 4 + 4 * dims.length);
  return out;
}

function errorOf(f: () => unknown): DatasetError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DatasetError);
    return e as DatasetError;
  }
  throw new Error('expected a DatasetError');
}

describe('parseIdx', () => {
  test('parses images to x/255 and labels', () => {
    const img = parseIdxImages(idx([2, 1, 2], [0, 255, 51, 102]), 'imgs');
    expect([img.count, img.rows, img.cols]).toEqual([2, 1, 2]);
    expect(Array.from(img.images)).toEqual([0, 1, 0.2, 0.4].map(Math.fround));
    expect(Array.from(parseIdxLabels(idx([3], [1, 0, 9]), 'lbls', 10))).toEqual([1, 0, 9]);
    expect(parseIdx(idx([2, 2], [1, 2, 3, 4]), 'm', 2).dims).toEqual([2, 2]);
  });

  test('wrong magic', () => {
    const bytes = idx([1, 1, 1], [0]);
    bytes[0] = 0x1f; // e.g. a gzip file passed uncompressed
    const e = errorOf(() => parseIdxImages(bytes, '/data/train-images'));
    expect(e.message).toContain('/data/train-images');
    expect(e.message).toContain('bad IDX magic');
    expect(e.message).toContain('0x00000803');
  });

  test('labels file given as images: wrong rank in the magic', () => {
    const e = errorOf(() => parseIdxImages(idx([3], [1, 2, 3]), 'labels-as-images'));
    expect(e.message).toMatch(/^labels-as-images: bad IDX magic 0x00000801: expected 0x00000803/);
  });

  test('bad dtype', () => {
    const e = errorOf(() => parseIdxLabels(idx([1], [0], 0x0d), 'float-labels', 10));
    expect(e.message).toContain('float-labels');
    expect(e.message).toContain('unsupported IDX dtype 0x0d');
  });

  test('truncated payload', () => {
    const full = idx([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    const e = errorOf(() => parseIdxImages(full.subarray(0, full.length - 3), 'short-file'));
    expect(e.message).toBe('short-file: truncated: expected 24 bytes, got 21 (dims 2×2×2)');
  });

  test('truncated header', () => {
    expect(errorOf(() => parseIdxImages(new Uint8Array([0, 0, 8]), 'tiny')).message).toContain(
      'tiny: truncated',
    );
    expect(
      errorOf(() => parseIdxImages(idx([1, 1, 1], [0]).subarray(0, 10), 'half-header')).message,
    ).toContain('half-header: truncated: expected at least 16 header bytes, got 10');
  });

  test('trailing bytes', () => {
    const e = errorOf(() => parseIdxLabels(idx([2], [1, 2, 3]), 'long-file', 10));
    expect(e.message).toContain('long-file');
    expect(e.message).toContain('1 trailing bytes: expected 10 bytes, got 11');
  });

  test('label out of range names the index', () => {
    const e = errorOf(() => parseIdxLabels(idx([3], [1, 12, 3]), 'lbl', 10));
    expect(e.message).toBe('lbl: label 12 at index 1 is out of range (expected < 10)');
  });
});

describe('IDX dataset files', () => {
  test('missing file: the message names the path', async () => {
    const dir = tempDir('idx-missing');
    const err = await loadMnist({ dir }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as Error).message).toContain(join(dir, 'train-images-idx3-ubyte'));
    expect((err as Error).message).toContain('file not found');
  });
});

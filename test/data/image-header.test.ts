// Image sizes from the header alone (PNG IHDR, JPEG SOF0..SOF15 after any other segments), its clear errors
// on truncated or malformed headers, the pixel / side limits checked on them, and the channels a header declares.
import { describe, expect, test } from 'bun:test';
import {
  checkImageLimits,
  imageChannels,
  ImageLimitError,
  readImageHeader,
} from '../../src/data/image-header.ts';
import { DatasetError } from '../../src/data/dataset-error.ts';
import { encodeJpeg, encodePng, rgbaImage } from './helpers.ts';
import { ihdr, pngChunk, pngFile } from './png-fixtures.ts';

const errorOf = (f: () => unknown): DatasetError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DatasetError);
    return e as DatasetError;
  }
  throw new Error('expected a DatasetError');
};

/** A JPEG byte stream of markers: SOI, then [marker, payload] segments (length added), then EOI. */
function jpegOf(segments: [number, number[]][], tail: number[] = [0xff, 0xd9]): Uint8Array {
  const out = [0xff, 0xd8];
  for (const [m, payload] of segments)
    out.push(0xff, m, (payload.length + 2) >> 8, (payload.length + 2) & 255, ...payload);
  return Uint8Array.from([...out, ...tail]);
}
/** SOF payload: precision 8, height, width, one component. */
const sof = (h: number, w: number) => [8, h >> 8, h & 255, w >> 8, w & 255, 1, 1, 0x11, 0];

describe('readImageHeader', () => {
  test('PNG: width and height from IHDR', () => {
    const img = rgbaImage(37, 5, () => [1, 2, 3]);
    expect(readImageHeader(encodePng(img, 37, 5), 'a.png')).toEqual({
      format: 'png',
      width: 37,
      height: 5,
    });
  });

  test('JPEG: the frame size of an encoded file (SOF0 after APP0, DQT)', () => {
    const img = rgbaImage(41, 23, (x, y) => [x, y, 0]);
    expect(readImageHeader(encodeJpeg(img, 41, 23), 'a.jpg')).toEqual({
      format: 'jpeg',
      width: 41,
      height: 23,
    });
  });

  test('JPEG: every SOFn marker counts; DHT (C4), JPG (C8) and DAC (CC) do not', () => {
    for (let m = 0xc0; m <= 0xcf; m++) {
      const bytes = jpegOf([
        [0xe1, [1, 2, 3]],
        [m, sof(300, 200)],
        [0xc0, sof(7, 9)],
      ]);
      const want = [0xc4, 0xc8, 0xcc].includes(m)
        ? { width: 9, height: 7 }
        : { width: 200, height: 300 };
      expect(readImageHeader(bytes, 'x.jpg')).toEqual({ format: 'jpeg', ...want });
    }
  });

  test('JPEG: fill bytes and standalone markers between segments are skipped', () => {
    const bytes = Uint8Array.from([
      0xff,
      0xd8,
      0xff,
      0xff,
      0xff,
      0xe0,
      0,
      4,
      9,
      9,
      0xff,
      0xd0,
      0xff,
      0x01,
      0xff,
      0xc2,
      0,
      11,
      ...sof(65535, 65535),
    ]);
    expect(readImageHeader(bytes, 'x.jpg')).toEqual({
      format: 'jpeg',
      width: 65535,
      height: 65535,
    });
  });

  test('JPEG: clear errors for truncated or markerless headers', () => {
    expect(errorOf(() => readImageHeader(Uint8Array.of(0xff, 0xd8, 0xff), 'x.jpg')).message).toBe(
      'x.jpg: cannot decode JPEG: file ends before its SOF (frame) header',
    );
    expect(errorOf(() => readImageHeader(jpegOf([[0xe0, [1, 2]]], []), 'x.jpg')).message).toBe(
      'x.jpg: cannot decode JPEG: file ends before its SOF (frame) header',
    );
    expect(errorOf(() => readImageHeader(jpegOf([[0xe0, [1, 2]]]), 'x.jpg')).message).toBe(
      'x.jpg: cannot decode JPEG: EOI before any SOF (frame) header',
    );
    expect(
      errorOf(() =>
        readImageHeader(
          jpegOf([
            [0xda, [1, 2]],
            [0xc0, sof(1, 1)],
          ]),
          'x.jpg',
        ),
      ).message,
    ).toMatch(/scan data before any SOF/);
    expect(
      errorOf(() => readImageHeader(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0), 'x.jpg')).message,
    ).toMatch(/file ends inside the length of marker e0/);
    expect(
      errorOf(() => readImageHeader(Uint8Array.of(0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, 0, 5), 'x.jpg'))
        .message,
    ).toMatch(/file ends inside its SOF/);
    expect(
      errorOf(() => readImageHeader(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0, 1), 'x.jpg')).message,
    ).toMatch(/bad length 1/);
    expect(
      errorOf(() => readImageHeader(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0, 2, 0x12), 'x.jpg'))
        .message,
    ).toMatch(/expected a marker at byte 6, found 12/);
  });

  test('JPEG: a walk over many segments ends (every step moves forward)', () => {
    const segments: [number, number[]][] = Array.from({ length: 20_000 }, () => [0xfe, [0]]);
    expect(errorOf(() => readImageHeader(jpegOf(segments), 'x.jpg')).message).toMatch(
      /EOI before any SOF/,
    );
  });

  test('PNG: clear errors for a truncated or wrong first chunk', () => {
    const png = encodePng(
      rgbaImage(3, 3, () => [0, 0, 0]),
      3,
      3,
    );
    expect(errorOf(() => readImageHeader(png.subarray(0, 20), 'x.png')).message).toBe(
      'x.png: cannot decode PNG: file ends inside its IHDR header (20 bytes)',
    );
    const other = png.slice();
    other.set(new TextEncoder().encode('IDAT'), 12);
    expect(errorOf(() => readImageHeader(other, 'x.png')).message).toBe(
      'x.png: cannot decode PNG: missing IHDR: the first chunk must be IHDR',
    );
    const long = png.slice();
    long[11] = 14;
    expect(errorOf(() => readImageHeader(long, 'x.png')).message).toBe(
      'x.png: cannot decode PNG: IHDR is 14 bytes, expected 13',
    );
  });

  test('neither format', () => {
    expect(errorOf(() => readImageHeader(new TextEncoder().encode('GIF89a'), 'x')).message).toBe(
      'x: not a PNG or JPEG image (first bytes: 47 49 46 38 39 61)',
    );
  });
});

describe('checkImageLimits', () => {
  const limits = { maxPixels: 4_194_304, maxSide: 8192 };
  const check =
    (width: number, height: number, l = limits) =>
    () =>
      checkImageLimits({ format: 'jpeg', width, height }, l, 'body');

  test('within the limits passes', () => {
    expect(check(2048, 2048)).not.toThrow();
    expect(check(8192, 512)).not.toThrow();
  });

  test('over the pixel limit or either side limit: ImageLimitError naming the limit', () => {
    const px = errorOf(check(65535, 65535)) as ImageLimitError;
    expect(px).toBeInstanceOf(ImageLimitError);
    expect(px.message).toBe('body: JPEG is 65535×65535, more than the 4194304-pixel limit');
    expect([px.limit, px.value]).toEqual(['pixels', 65535 * 65535]);
    const wide = errorOf(check(8193, 1)) as ImageLimitError;
    expect([wide.message, wide.limit, wide.value]).toEqual([
      'body: JPEG is 8193×1, wider than the 8192-pixel side limit',
      'side',
      8193,
    ]);
    expect(errorOf(check(1, 8193)).message).toBe(
      'body: JPEG is 1×8193, taller than the 8192-pixel side limit',
    );
    expect(errorOf(check(1, 16_777_216, { maxPixels: 1e9, maxSide: 8192 }))).toBeInstanceOf(
      ImageLimitError,
    );
  });

  test('zero width or height is a plain DatasetError (bad request), not a limit', () => {
    for (const [w, h] of [
      [0, 5],
      [5, 0],
      [0, 0],
    ]) {
      const e = errorOf(check(w, h));
      expect(e).not.toBeInstanceOf(ImageLimitError);
      expect(e.message).toBe(`body: JPEG is ${w}×${h}: an image needs at least one pixel`);
    }
  });
});

describe('imageChannels', () => {
  test('grey PNGs (with or without alpha) and one-component JPEGs are 1, the rest 3', () => {
    const img = rgbaImage(3, 2, () => [9, 9, 9]);
    expect(
      [0, 2, 6].map((t) => imageChannels(encodePng(img, 3, 2, t as 0 | 2 | 6), 'a.png')),
    ).toEqual([1, 3, 3]);
    // Grey + alpha and palette, from the header alone (no pixel data needed).
    const header = (colorType: number) => pngFile([pngChunk('IHDR', ihdr(3, 2, 8, colorType))]);
    expect([imageChannels(header(4), 'ga.png'), imageChannels(header(3), 'p.png')]).toEqual([1, 3]);
    expect(imageChannels(encodeJpeg(img, 3, 2), 'a.jpg')).toBe(3);
    const grey = jpegOf([
      [0xdb, new Array(65).fill(1)],
      [0xc0, sof(2, 3)],
    ]);
    expect(imageChannels(grey, 'g.jpg')).toBe(1);
    expect(errorOf(() => imageChannels(Uint8Array.of(1, 2, 3), 'x')).problem).toContain(
      'not a PNG or JPEG',
    );
  });
});

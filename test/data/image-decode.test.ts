// PNG/JPEG decoding (sniffed by magic bytes, sized from the header first), RGBA → CHW conversion (whole and
// per row) and the error cases.
import { test, expect, describe } from 'bun:test';
import {
  decodeImage,
  toChannels,
  channelsRow,
  sniffImageFormat,
  DatasetError,
  ImageLimitError,
} from '../../src/data/index.ts';
import { rgbaImage, encodePng, encodeJpeg } from './helpers.ts';

const W = 6,
  H = 4;
const gray = rgbaImage(W, H, (x, y) => {
  const v = (x * 40 + y * 10) & 0xff;
  return [v, v, v];
});
const color = rgbaImage(W, H, (x, y) => [x * 40, y * 60, 255 - x * 20]);

function errorOf(f: () => unknown): DatasetError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DatasetError);
    return e as DatasetError;
  }
  throw new Error('expected a DatasetError');
}

describe('decodeImage', () => {
  test('sniffs PNG and JPEG by magic bytes', () => {
    expect(sniffImageFormat(encodePng(color, W, H))).toBe('png');
    expect(sniffImageFormat(encodeJpeg(color, W, H))).toBe('jpeg');
    expect(sniffImageFormat(new TextEncoder().encode('GIF89a..'))).toBeNull();
  });

  test('grayscale PNG: exact bytes; gray channel = v/255 exactly', () => {
    const img = decodeImage(encodePng(gray, W, H, 0), 'gray.png');
    expect([img.width, img.height]).toEqual([W, H]);
    expect(Array.from(img.rgba)).toEqual(Array.from(gray));
    const one = toChannels(img.rgba, W, H, 1);
    for (let i = 0; i < W * H; i++) expect(one[i]).toBe(Math.fround(gray[4 * i] / 255));
  });

  test('RGB PNG: exact bytes and CHW planes', () => {
    const img = decodeImage(encodePng(color, W, H, 2), 'rgb.png');
    expect(Array.from(img.rgba)).toEqual(Array.from(color));
    const chw = toChannels(img.rgba, W, H, 3);
    const at = (c: number, x: number, y: number) => chw[c * W * H + y * W + x];
    expect(at(0, 2, 1)).toBe(Math.fround(80 / 255));
    expect(at(1, 2, 1)).toBe(Math.fround(60 / 255));
    expect(at(2, 2, 1)).toBe(Math.fround(215 / 255));
  });

  test('BT.601 luma for colour → 1 channel', () => {
    const px = rgbaImage(1, 1, () => [255, 0, 0]);
    expect(toChannels(px, 1, 1, 1)[0]).toBeCloseTo(0.299, 6);
    expect(
      toChannels(
        rgbaImage(1, 1, () => [10, 200, 30]),
        1,
        1,
        1,
      )[0],
    ).toBeCloseTo((0.299 * 10 + 0.587 * 200 + 0.114 * 30) / 255, 6);
  });

  test('JPEG (gray and colour) within tolerance', () => {
    for (const src of [gray, color]) {
      const img = decodeImage(encodeJpeg(src, W, H, 95), 'img.jpg');
      expect([img.width, img.height]).toEqual([W, H]);
      let err = 0;
      for (let i = 0; i < src.length; i++)
        if (i % 4 !== 3) err = Math.max(err, Math.abs(img.rgba[i] - src[i]));
      expect(err).toBeLessThanOrEqual(24); // lossy; quality 95 on sharp 6×4 edges
    }
  });

  test('corrupt or truncated PNG names the file', () => {
    const png = encodePng(color, W, H);
    const flipped = png.slice();
    flipped[png.length - 20] ^= 0xff; // inside IDAT: CRC or inflate fails
    expect(errorOf(() => decodeImage(flipped, 'bad.png')).message).toMatch(
      /^bad\.png: cannot decode PNG: /,
    );
    expect(errorOf(() => decodeImage(png.subarray(0, 40), 'cut.png')).message).toMatch(
      /^cut\.png: cannot decode PNG: /,
    );
  });

  test('truncated JPEG names the file', () => {
    const jpg = encodeJpeg(color, W, H);
    expect(errorOf(() => decodeImage(jpg.subarray(0, jpg.length >> 1), 'cut.jpg')).message).toMatch(
      /^cut\.jpg: cannot decode JPEG: /,
    );
  });

  test('wrong magic names the file and shows the first bytes', () => {
    const e = errorOf(() =>
      decodeImage(new TextEncoder().encode('GIF89a-not-supported'), 'anim.png'),
    );
    expect(e.message).toBe(
      'anim.png: not a PNG or JPEG image (first bytes: 47 49 46 38 39 61 2d 6e)',
    );
    expect(errorOf(() => decodeImage(new Uint8Array(0), 'empty')).message).toContain('(empty)');
  });

  test('pixel limit is enforced before decoding', () => {
    expect(
      errorOf(() => decodeImage(encodePng(color, W, H), 'big.png', { maxPixels: 10 })).message,
    ).toContain('more than the 10-pixel limit');
    // Refused from the SOF header (an ImageLimitError), not by jpeg-js while decoding.
    const jpg = errorOf(() => decodeImage(encodeJpeg(color, W, H), 'big.jpg', { maxPixels: 10 }));
    expect(jpg).toBeInstanceOf(ImageLimitError);
    expect(jpg.message).toBe('big.jpg: JPEG is 6×4, more than the 10-pixel limit');
  });

  test('side limit and zero size, from the header, for both formats', () => {
    for (const [bytes, fmt] of [
      [encodePng(color, W, H), 'PNG'],
      [encodeJpeg(color, W, H), 'JPEG'],
    ] as const) {
      const e = errorOf(() => decodeImage(bytes, 'x', { maxSide: 5 }));
      expect(e).toBeInstanceOf(ImageLimitError);
      expect(e.message).toBe(`x: ${fmt} is 6×4, wider than the 5-pixel side limit`);
      expect(decodeImage(bytes, 'x', { maxSide: 6, maxPixels: 24 }).width).toBe(6);
    }
    const zero = encodePng(color, W, H).slice();
    new DataView(zero.buffer).setUint32(16, 0);
    const e = errorOf(() => decodeImage(zero, 'z.png'));
    expect(e).not.toBeInstanceOf(ImageLimitError);
    expect(e.message).toBe('z.png: PNG is 0×4: an image needs at least one pixel');
  });

  test('a JPEG whose SOF claims 65535×65535 is refused from the header, whatever follows', () => {
    const sof = [
      0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc0, 0, 11, 8, 0xff, 0xff, 0xff, 0xff, 1, 1, 0x11,
      0,
    ];
    const e = errorOf(() => decodeImage(Uint8Array.from([...sof, 0xff, 0xd9]), 'huge.jpg'));
    expect(e).toBeInstanceOf(ImageLimitError);
    expect(e.message).toBe('huge.jpg: JPEG is 65535×65535, more than the 4194304-pixel limit');
  });

  test('channelsRow gives the rows of toChannels; inverted, exactly the negative image', () => {
    for (const channels of [1, 3] as const) {
      const all = toChannels(color, W, H, channels);
      const negative = toChannels(
        color.map((v, i) => (i % 4 === 3 ? v : 255 - v)),
        W,
        H,
        channels,
      );
      const row = new Float32Array(channels * W);
      for (let y = 0; y < H; y++) {
        for (const [invert, want] of [
          [false, all],
          [true, negative],
        ] as const) {
          channelsRow(color, W, y, channels, row, invert);
          for (let c = 0; c < channels; c++) {
            expect(Array.from(row.subarray(c * W, (c + 1) * W))).toEqual(
              Array.from(want.subarray(c * W * H + y * W, c * W * H + (y + 1) * W)),
            );
          }
        }
      }
    }
  });

  test('toChannels rejects a wrong buffer size', () => {
    expect(() => toChannels(new Uint8Array(7), 1, 2, 3)).toThrow(RangeError);
  });
});

// Polarity: the border mean of an RGBA image, the invert decision per model background, and the image path
// of the server (imageToInput) applying it: a negative image becomes exactly the positive one.
import { describe, expect, test } from 'bun:test';
import { borderMean, shouldInvert } from '../../src/data/polarity.ts';
import { imageToInput } from '../../src/parallel/defended-task.ts';
import { encodePng, rgbaImage } from './helpers.ts';

const LIMITS = { maxPixels: 4_194_304, maxSide: 8192 };

describe('borderMean', () => {
  test('only the 1-pixel outer ring counts, each pixel once', () => {
    // 5×4, border white (255), interior black: 14 border pixels.
    const img = rgbaImage(5, 4, (x, y) =>
      x === 0 || y === 0 || x === 4 || y === 3 ? [255, 255, 255] : [0, 0, 0],
    );
    expect(borderMean(img, 5, 4)).toBe(1);
    const inner = rgbaImage(5, 4, (x, y) =>
      x === 0 || y === 0 || x === 4 || y === 3 ? [0, 0, 0] : [255, 255, 255],
    );
    expect(borderMean(inner, 5, 4)).toBe(0);
    // One border pixel of 14 at 255 → 1/14.
    const one = rgbaImage(5, 4, (x, y) => (x === 2 && y === 3 ? [255, 255, 255] : [0, 0, 0]));
    expect(borderMean(one, 5, 4)).toBeCloseTo(1 / 14, 12);
  });

  test('BT.601 luma, alpha ignored; thin images use every pixel', () => {
    expect(
      borderMean(
        rgbaImage(1, 1, () => [255, 0, 0]),
        1,
        1,
      ),
    ).toBeCloseTo(0.299, 12);
    const transparent = Uint8Array.of(255, 255, 255, 0);
    expect(borderMean(transparent, 1, 1)).toBe(1);
    expect(
      borderMean(
        rgbaImage(1, 3, (_x, y) => [y * 100, y * 100, y * 100]),
        1,
        3,
      ),
    ).toBeCloseTo(100 / 255, 12);
    expect(
      borderMean(
        rgbaImage(4, 1, (x) => [x * 60, x * 60, x * 60]),
        4,
        1,
      ),
    ).toBeCloseTo(90 / 255, 12);
    expect(
      borderMean(
        rgbaImage(2, 2, (x, y) => (x + y === 1 ? [255, 255, 255] : [0, 0, 0])),
        2,
        2,
      ),
    ).toBe(0.5);
    expect(() => borderMean(new Uint8Array(3), 1, 1)).toThrow(RangeError);
  });
});

describe('shouldInvert', () => {
  test('dark models flip light borders, light models dark ones, any never; 0.5 stays', () => {
    expect([0, 0.4, 0.5, 0.51, 1].map((m) => shouldInvert('dark', m))).toEqual([
      false,
      false,
      false,
      true,
      true,
    ]);
    expect([0, 0.49, 0.5, 0.6, 1].map((m) => shouldInvert('light', m))).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
    expect([0, 0.5, 1].map((m) => shouldInvert('any', m))).toEqual([false, false, false]);
  });
});

describe('imageToInput applies the model background', () => {
  // A 40×40 "stroke" image: a light cross on black, and its negative (a dark cross on white).
  const cross = (x: number, y: number) => Math.abs(x - 20) < 3 || Math.abs(y - 17) < 4;
  const positive = encodePng(
    rgbaImage(40, 40, (x, y) => (cross(x, y) ? [250, 250, 250] : [3, 3, 3])),
    40,
    40,
  );
  const negative = encodePng(
    rgbaImage(40, 40, (x, y) => (cross(x, y) ? [5, 5, 5] : [252, 252, 252])),
    40,
    40,
  );

  test("'dark': the light-bordered negative is inverted to exactly the positive's input", () => {
    // The cross reaches the border: 24 of the 156 border pixels are stroke.
    expect((24 * 250 + 132 * 3) / (156 * 255)).toBeCloseTo(0.1608, 4);
    expect((24 * 5 + 132 * 252) / (156 * 255)).toBeCloseTo(0.8392, 4);
    const a = imageToInput(positive, [1, 28, 28], LIMITS, 'dark');
    const b = imageToInput(negative, [1, 28, 28], LIMITS, 'dark');
    expect(a.preprocessing).toEqual({
      resized: { from: [40, 40], to: [28, 28], mode: 'area' },
      channels: 1,
      background: 'dark',
      borderMean: 0.1608,
      inverted: false,
    });
    expect(b.preprocessing).toEqual({
      resized: { from: [40, 40], to: [28, 28], mode: 'area' },
      channels: 1,
      background: 'dark',
      borderMean: 0.8392,
      inverted: true,
    });
    expect(Array.from(b.x)).toEqual(Array.from(a.x));
  });

  test("'any' leaves both alone; 'light' inverts the dark-bordered one", () => {
    const b = imageToInput(negative, [1, 28, 28], LIMITS, 'any');
    expect(b.preprocessing.inverted).toBe(false);
    expect(b.x[0]).toBeCloseTo(252 / 255, 6);
    const a = imageToInput(positive, [3, 28, 28], LIMITS, 'light');
    expect(a.preprocessing.inverted).toBe(true);
    expect(a.preprocessing.channels).toBe(3);
    expect(a.x[0]).toBeCloseTo(252 / 255, 6);
    expect(imageToInput(positive, [1, 28, 28], LIMITS).preprocessing.background).toBe('any');
  });

  test('same size: no resize, reported as mode none', () => {
    const png = encodePng(
      rgbaImage(28, 28, () => [9, 9, 9]),
      28,
      28,
    );
    expect(imageToInput(png, [1, 28, 28], LIMITS, 'dark').preprocessing.resized).toEqual({
      from: [28, 28],
      to: [28, 28],
      mode: 'none',
    });
    const small = encodePng(
      rgbaImage(7, 9, () => [9, 9, 9]),
      7,
      9,
    );
    expect(imageToInput(small, [1, 28, 28], LIMITS, 'dark').preprocessing.resized).toEqual({
      from: [9, 7],
      to: [28, 28],
      mode: 'bilinear',
    });
  });
});

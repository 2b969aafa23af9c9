// Seeded crop/flip augmentation: exact shifts and mirrors, replayable draws, clear parse errors.
import { describe, expect, test } from 'bun:test';
import { augmentBatch, augmentStream, parseAugment } from '../../src/nn/augment.ts';

const shape = [2, 3, 4] as const; // C, H, W
const img = (n: number) => Float32Array.from({ length: n * 24 }, (_, i) => i + 1);

describe('augment', () => {
  test('parses crop, flip, both and none; rejects anything else by name', () => {
    expect(parseAugment('crop:4,flip')).toEqual({ pad: 4, flip: true });
    expect(parseAugment('crop:2')).toEqual({ pad: 2, flip: false });
    expect(parseAugment('none')).toEqual({ pad: 0, flip: false });
    expect(() => parseAugment('crop:x')).toThrow("augment 'crop:x'");
    expect(() => parseAugment('rotate')).toThrow("augment 'rotate'");
  });

  test('no crop and no flip returns the batch unchanged', () => {
    const x = img(3);
    expect(augmentBatch(x, 3, shape, { pad: 0, flip: false }, 1)).toBe(x);
  });

  test('each image is its source shifted by some (dy, dx) in [-pad, pad]², zero-filled, or its mirror', () => {
    const n = 64,
      x = img(n),
      pad = 1;
    for (const flip of [false, true]) {
      const out = augmentBatch(x, n, shape, { pad, flip }, augmentStream(7, 0, 3));
      const seen = new Set<string>();
      for (let i = 0; i < n; i++) {
        let match = '';
        for (let dy = -pad; dy <= pad && !match; dy++)
          for (let dx = -pad; dx <= pad && !match; dx++)
            for (const f of flip ? [false, true] : [false]) {
              let ok = true;
              for (let c = 0; c < 2 && ok; c++)
                for (let y = 0; y < 3 && ok; y++)
                  for (let xx = 0; xx < 4 && ok; xx++) {
                    const sy = y + dy,
                      sx = (f ? 3 - xx : xx) + dx;
                    const want =
                      sy >= 0 && sy < 3 && sx >= 0 && sx < 4 ? x[i * 24 + c * 12 + sy * 4 + sx] : 0;
                    ok = out[i * 24 + c * 12 + y * 4 + xx] === want;
                  }
              if (ok) match = `${dy},${dx},${f}`;
            }
        expect(match).not.toBe('');
        seen.add(match);
      }
      expect(seen.size).toBeGreaterThan(flip ? 10 : 5); // the draws actually vary across images
    }
  });

  test('the same (seed, epoch, step) replays the same batch; another step differs', () => {
    const x = img(16),
      aug = { pad: 2, flip: true };
    const a = augmentBatch(x, 16, shape, aug, augmentStream(1, 2, 3));
    expect(augmentBatch(x, 16, shape, aug, augmentStream(1, 2, 3))).toEqual(a);
    expect(augmentBatch(x, 16, shape, aug, augmentStream(1, 2, 4))).not.toEqual(a);
  });
});

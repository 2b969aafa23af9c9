// sampleDataset (behind `train --train-limit`): a seeded sample in original order, images and labels copied
// together, every class present on class-ordered data, the same seed giving the same sample.
import { describe, expect, test } from 'bun:test';
import { sampleDataset, type Dataset } from '../../src/data/index.ts';

/** 1000 images of shape [1,2,2], class-ordered like an ImageFolder (100 per class), image i filled with i. */
function ordered(): Dataset {
  const images = new Float32Array(1000 * 4);
  for (let i = 0; i < 1000; i++) images.fill(i, 4 * i, 4 * i + 4);
  return {
    name: 'ordered/train',
    images,
    labels: Uint8Array.from({ length: 1000 }, (_, i) => Math.floor(i / 100)),
    shape: [1, 2, 2],
    classes: Array.from({ length: 10 }, (_, c) => `c${c}`),
    count: 1000,
    sha256: '',
  };
}

describe('sampleDataset', () => {
  test('covers the classes of class-ordered data, keeps image/label pairs and the original order', () => {
    const s = sampleDataset(ordered(), 100, 1);
    expect(s.count).toBe(100);
    expect(s.name).toBe('ordered/train[100 sampled]');
    expect(new Set(s.labels).size).toBe(10);
    let last = -1;
    for (let i = 0; i < 100; i++) {
      const src = s.images[4 * i];
      expect(src).toBeGreaterThan(last);
      last = src;
      expect(s.labels[i]).toBe(Math.floor(src / 100));
      expect(Array.from(s.images.subarray(4 * i, 4 * i + 4))).toEqual([src, src, src, src]);
    }
  });

  test('seeded: same seed, same sample; another seed, another sample', () => {
    const a = sampleDataset(ordered(), 50, 7),
      b = sampleDataset(ordered(), 50, 7),
      c = sampleDataset(ordered(), 50, 8);
    expect(Array.from(a.images)).toEqual(Array.from(b.images));
    expect(Array.from(a.images)).not.toEqual(Array.from(c.images));
  });

  test('a bad size is refused by name', () => {
    expect(() => sampleDataset(ordered(), 0, 1)).toThrow(
      'sampleDataset: n must be an integer in [1, 1000], got 0',
    );
    expect(() => sampleDataset(ordered(), 1001, 1)).toThrow('got 1001');
  });
});

// The seeded synthetic set: determinism, seed sensitivity, balance, range, and that it is learnable.
import { test, expect, describe } from 'bun:test';
import { syntheticDataset, type Dataset } from '../../src/data/index.ts';
import { loadDataset } from '../../src/data/node.ts';
import { labelCounts, minMax } from './helpers.ts';

const opts = { count: 103, shape: [1, 6, 6] as [number, number, number], classes: 10, seed: 42 };
const same = (a: Float32Array, b: Float32Array) =>
  Buffer.from(a.buffer).equals(Buffer.from(b.buffer));

/** Accuracy on `test` of the nearest class mean fitted on `train`: a learnability check without nn. */
function nearestMeanAccuracy(train: Dataset, t: Dataset): number {
  const per = train.images.length / train.count,
    k = train.classes.length;
  const means = new Float64Array(k * per),
    n = new Float64Array(k);
  for (let i = 0; i < train.count; i++) {
    n[train.labels[i]]++;
    for (let p = 0; p < per; p++) means[train.labels[i] * per + p] += train.images[i * per + p];
  }
  for (let c = 0; c < k; c++) for (let p = 0; p < per; p++) means[c * per + p] /= n[c];
  let ok = 0;
  for (let i = 0; i < t.count; i++) {
    let best = -1,
      bestD = Infinity;
    for (let c = 0; c < k; c++) {
      let d = 0;
      for (let p = 0; p < per; p++) d += (t.images[i * per + p] - means[c * per + p]) ** 2;
      if (d < bestD) {
        bestD = d;
        best = c;
      }
    }
    if (best === t.labels[i]) ok++;
  }
  return ok / t.count;
}

describe('syntheticDataset', () => {
  test('same seed → identical bytes; different seed → different', () => {
    const a = syntheticDataset(opts),
      b = syntheticDataset(opts),
      c = syntheticDataset({ ...opts, seed: 43 });
    expect(same(a.images, b.images)).toBe(true);
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    expect(same(a.images, c.images)).toBe(false);
    expect(Array.from(a.labels)).not.toEqual(Array.from(c.labels));
    expect(same(a.images, syntheticDataset({ ...opts, split: 'test' }).images)).toBe(false);
  });

  test('balanced labels, shape, range, names', () => {
    const ds = syntheticDataset(opts);
    const counts = labelCounts(ds.labels, 10);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    expect(counts.reduce((s, v) => s + v, 0)).toBe(103);
    expect(ds.images.length).toBe(103 * 36);
    const [lo, hi] = minMax(ds.images);
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(1);
    expect(ds.classes[3]).toBe('class-3');
    expect(ds.sha256).toBe('');
    expect(syntheticDataset({ ...opts, classes: ['a', 'b'] }).classes).toEqual(['a', 'b']);
  });

  test('learnable: nearest class mean beats 90% on the test split', async () => {
    const { train, test: t } = await loadDataset('synthetic', {
      trainCount: 300,
      testCount: 100,
      shape: [1, 8, 8],
      seed: 7,
    });
    expect([train.count, t.count]).toEqual([300, 100]);
    expect(nearestMeanAccuracy(train, t)).toBeGreaterThan(0.9);
  });

  test('bad options', () => {
    expect(() => syntheticDataset({ ...opts, classes: 0 })).toThrow(RangeError);
    expect(() => syntheticDataset({ ...opts, count: -1 })).toThrow(RangeError);
  });
});

// gatherBatch and subset: gathering by index list, the short last batch, range checks; loadDataset's door.
import { test, expect, describe } from 'bun:test';
import { subset, syntheticDataset, DATASET_NAMES } from '../../src/data/index.ts';
import { loadDataset } from '../../src/data/node.ts';
import { gatherBatch } from '../../src/nn/batches.ts';

const takeBatch = (d: typeof ds, idx: ArrayLike<number>, start: number, size: number) => {
  const { x, y } = gatherBatch(d, idx, start, size);
  return { x: x.data, y: y.data, n: y.size };
};
import { permutation } from '../../src/hash/rng.ts';

const ds = syntheticDataset({ count: 10, shape: [1, 2, 3], classes: 3, seed: 1 });
const row = (i: number) => Array.from(ds.images.subarray(i * 6, (i + 1) * 6));

describe('gatherBatch / subset', () => {
  test('gathers rows in index order', () => {
    const idx = permutation(5, 10);
    const b = takeBatch(ds, idx, 2, 4);
    expect(b.n).toBe(4);
    expect(b.x.length).toBe(24);
    for (let k = 0; k < 4; k++) {
      expect(Array.from(b.x.subarray(k * 6, (k + 1) * 6))).toEqual(row(idx[2 + k]));
      expect(b.y[k]).toBe(ds.labels[idx[2 + k]]);
    }
  });

  test('last batch is short; past the end is empty', () => {
    expect(takeBatch(ds, [0, 1, 2, 3, 4, 5, 6], 4, 4).n).toBe(3);
    expect(takeBatch(ds, [0, 1], 5, 4).n).toBe(0);
  });

  test('out-of-range indices throw', () => {
    expect(() => takeBatch(ds, [0, 10], 0, 2)).toThrow(RangeError);
    expect(() => takeBatch(ds, [1.5], 0, 1)).toThrow(RangeError);
  });

  test('subset copies the listed samples', () => {
    const s = subset(ds, [9, 0]);
    expect(s.count).toBe(2);
    expect(Array.from(s.images.subarray(0, 6))).toEqual(row(9));
    expect(Array.from(s.labels)).toEqual([ds.labels[9], ds.labels[0]]);
    expect(s.shape).toEqual(ds.shape);
    expect(s.name).toBe('synthetic/train[subset 2]');
  });
});

describe('loadDataset', () => {
  test('names and unknown names', async () => {
    expect([...DATASET_NAMES]).toEqual([
      'mnist',
      'fashion-mnist',
      'cifar10',
      'cifar10-jpeg',
      'synthetic',
    ]);
    const s = await loadDataset('synthetic', {
      trainCount: 20,
      testCount: 10,
      shape: [3, 4, 4],
      classes: 4,
    });
    expect([s.train.count, s.test.count, s.train.shape[0], s.train.classes.length]).toEqual([
      20, 10, 3, 4,
    ]);
    await expect(loadDataset('imagenet' as never)).rejects.toThrow("unknown dataset 'imagenet'");
  });
});

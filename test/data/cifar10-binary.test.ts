// CIFAR-10 binary batches, tested on small generated batch files (the real ones are not on this machine).
import { test, expect, describe, afterAll } from 'bun:test';
import { loadCifar10Binary, loadDataset } from '../../src/data/node.ts';
import { parseCifar10Batch, DatasetError, CIFAR10_CLASSES } from '../../src/data/index.ts';
import { tempDir, removeTempDirs } from './helpers.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

afterAll(removeTempDirs);

/** A batch of records: label byte, then 3072 pixel bytes whose value encodes (record seed, channel, index). */
function batch(labels: number[], seed: number): Uint8Array {
  const out = new Uint8Array(labels.length * 3073);
  labels.forEach((l, r) => {
    out[r * 3073] = l;
    for (let i = 0; i < 3072; i++) out[r * 3073 + 1 + i] = (seed * 31 + r * 7 + i) & 0xff;
  });
  return out;
}

function writeBatches(dir: string, testBatch = batch([3, 4, 5], 9)): void {
  for (let b = 1; b <= 5; b++)
    writeFileSync(join(dir, `data_batch_${b}.bin`), batch([b, 9 - b], b));
  writeFileSync(join(dir, 'test_batch.bin'), testBatch);
}

describe('CIFAR-10 binary', () => {
  test('parses records: label byte then planar RGB', () => {
    const b = parseCifar10Batch(batch([7, 0], 1), 'b.bin');
    expect(b.count).toBe(2);
    expect(Array.from(b.labels)).toEqual([7, 0]);
    expect(b.images[0]).toBe(Math.fround(31 / 255)); // record 0, R plane, pixel 0
    expect(b.images[1024]).toBe(Math.fround(((31 + 1024) & 0xff) / 255)); // G plane starts at 1024
    expect(b.images[3072]).toBe(Math.fround(38 / 255)); // record 1 starts at 3072
  });

  test('loads five train batches in order and the test batch', async () => {
    const dir = tempDir('cifar-bin');
    writeBatches(dir);
    const { train, test: t } = await loadCifar10Binary({ dir });
    expect(train.count).toBe(10);
    expect(Array.from(train.labels)).toEqual([1, 8, 2, 7, 3, 6, 4, 5, 5, 4]);
    expect(Array.from(t.labels)).toEqual([3, 4, 5]);
    expect(train.shape).toEqual([3, 32, 32]);
    expect(train.classes).toEqual([...CIFAR10_CLASSES]);
    expect(train.images.length).toBe(10 * 3072);
    expect(train.images[2 * 3072]).toBe(Math.fround((2 * 31) / 255)); // first record of batch 2
    expect(train.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((await loadDataset('cifar10', { dir })).test.count).toBe(3);
  });

  test('bad length names the file', async () => {
    const dir = tempDir('cifar-len');
    writeBatches(dir, batch([1, 2], 0).subarray(0, 3073 + 100));
    const err = await loadCifar10Binary({ dir }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as Error).message).toContain(join(dir, 'test_batch.bin'));
    expect((err as Error).message).toContain(
      'length 3173 is not a positive multiple of the 3073-byte',
    );
  });

  test('bad label names the file and record index', () => {
    expect(() => parseCifar10Batch(batch([1, 10, 2], 0), '/d/data_batch_3.bin')).toThrow(
      '/d/data_batch_3.bin: record 1: label 10 is out of range (expected < 10)',
    );
  });

  test('missing file and missing folder setting', async () => {
    const dir = tempDir('cifar-missing');
    const err = await loadCifar10Binary({ dir }).then(
      () => null,
      (e: unknown) => e,
    );
    expect((err as Error).message).toContain(join(dir, 'data_batch_1.bin'));
    expect((err as Error).message).toContain('file not found');
    const old = process.env.HASHGUARD_CIFAR10_DIR;
    delete process.env.HASHGUARD_CIFAR10_DIR;
    try {
      const none = await loadCifar10Binary().then(
        () => null,
        (e: unknown) => e,
      );
      expect(none).toBeInstanceOf(DatasetError);
      expect((none as Error).message).toContain('HASHGUARD_CIFAR10_DIR');
    } finally {
      if (old !== undefined) process.env.HASHGUARD_CIFAR10_DIR = old;
    }
  });
});

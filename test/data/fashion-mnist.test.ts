// Fashion-MNIST from Debian's dataset-fashion-mnist. The load test skips, with a message, where the package
// is absent; the error-path tests use temp files and always run.
import { test, expect, describe, afterAll } from 'bun:test';
import {
  loadFashionMnist,
  fashionMnistDir,
  FASHION_MNIST_FILES,
  FASHION_MNIST_DEFAULT_DIR,
} from '../../src/data/node.ts';
import { DatasetError, combineHashes, KNOWN_CHECKSUMS } from '../../src/data/index.ts';
import { gunzipFile } from '../../src/data/fashion-mnist.ts';
import { tempDir, removeTempDirs, labelCounts, minMax } from './helpers.ts';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

afterAll(removeTempDirs);

const dataDir = fashionMnistDir(); // honours HASHGUARD_FASHION_MNIST_DIR
const present = existsSync(join(dataDir, FASHION_MNIST_FILES[0]));
if (!present) {
  console.warn(
    `skipping Fashion-MNIST load test: ${dataDir} has no Fashion-MNIST files; ` +
      'install it with `apt-get install dataset-fashion-mnist` (Debian/Ubuntu)',
  );
}

/** Runs f with an environment variable set, then restores it (tests share one process). */
async function withEnv<T>(name: string, value: string, f: () => Promise<T>): Promise<T> {
  const old = process.env[name];
  process.env[name] = value;
  try {
    return await f();
  } finally {
    if (old === undefined) delete process.env[name];
    else process.env[name] = old;
  }
}

describe('loadFashionMnist', () => {
  test.skipIf(!present)(
    'loads the files with pinned checksums',
    async () => {
      const { train, test: t } = await loadFashionMnist({ dir: dataDir });
      expect([train.count, t.count]).toEqual([60000, 10000]);
      expect(train.shape).toEqual([1, 28, 28]);
      expect(train.classes[0]).toBe('T-shirt/top');
      expect(train.classes[9]).toBe('Ankle boot');
      expect(train.labels[0]).toBe(9);
      // Fashion-MNIST is exactly balanced.
      expect(labelCounts(train.labels, 10)).toEqual(new Array(10).fill(6000));
      expect(labelCounts(t.labels, 10)).toEqual(new Array(10).fill(1000));
      expect(minMax(t.images)).toEqual([0, 1]);
      const expected = await combineHashes(
        FASHION_MNIST_FILES.map((f) => KNOWN_CHECKSUMS['fashion-mnist'][f]),
      );
      expect(train.sha256).toBe(expected);
      expect(t.sha256).toBe(expected);
    },
    60_000,
  );

  test('dir resolution: option, then HASHGUARD_FASHION_MNIST_DIR, then the Debian path', async () => {
    await withEnv('HASHGUARD_FASHION_MNIST_DIR', '/from/env', async () => {
      expect(fashionMnistDir()).toBe('/from/env');
      expect(fashionMnistDir('/from/option')).toBe('/from/option');
    });
    await withEnv('HASHGUARD_FASHION_MNIST_DIR', '', async () =>
      expect(fashionMnistDir()).toBe(FASHION_MNIST_DEFAULT_DIR),
    );
  });

  test('missing files: names the path and says what to install', async () => {
    const dir = tempDir('fashion-missing');
    const err = await withEnv('HASHGUARD_FASHION_MNIST_DIR', dir, () =>
      loadFashionMnist().then(
        () => null,
        (e: unknown) => e,
      ),
    );
    expect(err).toBeInstanceOf(DatasetError);
    const msg = (err as Error).message;
    expect(msg).toContain(join(dir, 'train-images-idx3-ubyte.gz'));
    expect(msg).toContain('apt-get install dataset-fashion-mnist');
  });

  test('corrupt gzip: names the file', async () => {
    const dir = tempDir('fashion-corrupt');
    for (const f of FASHION_MNIST_FILES)
      writeFileSync(join(dir, f), gzipSync(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 0])));
    writeFileSync(join(dir, FASHION_MNIST_FILES[1]), new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3]));
    // verify: false reaches the gunzip; with verification the checksum would fail first.
    const err = await loadFashionMnist({ dir, verify: false }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as Error).message).toContain(join(dir, FASHION_MNIST_FILES[1]));
    expect((err as Error).message).toContain('not a valid gzip file');
    const pinned = await loadFashionMnist({ dir }).then(
      () => null,
      (e: unknown) => e,
    );
    expect((pinned as Error).message).toContain('sha256 mismatch');
  });

  test('gunzipFile round trip and truncation', () => {
    const gz = gzipSync(new Uint8Array([1, 2, 3, 4, 5]));
    expect(Array.from(gunzipFile(new Uint8Array(gz), 'x.gz'))).toEqual([1, 2, 3, 4, 5]);
    expect(() => gunzipFile(new Uint8Array(gz.subarray(0, gz.length - 6)), 'cut.gz')).toThrow(
      /^cut\.gz: not a valid gzip file/,
    );
  });
});

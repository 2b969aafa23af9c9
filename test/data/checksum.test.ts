// sha256 and the pinned checksums: a "known" file with one flipped byte is caught by its basename.
import { test, expect, describe, afterAll } from 'bun:test';
import { sha256Hex } from '../../src/hash/index.ts';
import { verifyKnownChecksum, KNOWN_CHECKSUMS, DatasetError } from '../../src/data/index.ts';
import { loadMnist, defaultMnistDir, MNIST_FILES } from '../../src/data/node.ts';
import { tempDir, removeTempDirs } from './helpers.ts';
import { copyFileSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

afterAll(removeTempDirs);

describe('sha256Hex', () => {
  test('standard test vectors', async () => {
    expect(await sha256Hex(new Uint8Array(0))).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(await sha256Hex('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});

describe('verifyKnownChecksum', () => {
  test('unknown files pass with their hash; known files must match', async () => {
    expect(await verifyKnownChecksum('mnist', '/x/other-file', new Uint8Array([1]))).toHaveLength(
      64,
    );
    const err = await verifyKnownChecksum(
      'mnist',
      '/x/t10k-labels-idx1-ubyte',
      new Uint8Array([1]),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as Error).message).toContain('/x/t10k-labels-idx1-ubyte');
    expect((err as Error).message).toContain(
      `expected ${KNOWN_CHECKSUMS.mnist['t10k-labels-idx1-ubyte']}`,
    );
  });

  test('every pinned MNIST file matches the installed package', async () => {
    for (const f of MNIST_FILES) {
      const hash = await verifyKnownChecksum(
        'mnist',
        join(defaultMnistDir(), f),
        new Uint8Array(readFileSync(join(defaultMnistDir(), f))),
      );
      expect(hash).toBe(KNOWN_CHECKSUMS.mnist[f]);
    }
  });

  test('the loader rejects a known MNIST file with one flipped byte', async () => {
    const dir = tempDir('mnist-flip');
    const src = defaultMnistDir();
    for (const f of MNIST_FILES) {
      if (f !== 't10k-labels-idx1-ubyte') symlinkSync(join(src, f), join(dir, f));
    }
    const bad = join(dir, 't10k-labels-idx1-ubyte');
    copyFileSync(join(src, 't10k-labels-idx1-ubyte'), bad);
    const bytes = readFileSync(bad);
    bytes[100] ^= 1; // a label 0..9 stays in range, so only the checksum can notice
    writeFileSync(bad, bytes);
    const actual = await sha256Hex(new Uint8Array(bytes));

    const err = await loadMnist({ dir }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DatasetError);
    const msg = (err as Error).message;
    expect(msg).toContain(bad);
    expect(msg).toContain('sha256 mismatch');
    expect(msg).toContain(KNOWN_CHECKSUMS.mnist['t10k-labels-idx1-ubyte']);
    expect(msg).toContain(actual);

    // Opting out of verification loads it, with the real (different) provenance hash.
    const loaded = await loadMnist({ dir, verify: false });
    expect(loaded.test.count).toBe(10000);
  }, 60_000);
});

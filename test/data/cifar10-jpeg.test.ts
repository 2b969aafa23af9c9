// CIFAR-10 (JPEG) from the shared tarball: skipped with a message where it is absent. The first run
// unpacks it once into the cache (seconds); later runs reuse the cache.
import { test, expect, describe, afterAll } from 'bun:test';
import { loadCifar10Jpeg, ensureCifar10Jpeg, cifar10JpegTarball } from '../../src/data/node.ts';
import { DatasetError, KNOWN_CHECKSUMS, CIFAR10_CLASSES } from '../../src/data/index.ts';
import { tempDir, removeTempDirs, minMax } from './helpers.ts';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

afterAll(removeTempDirs);

const tarball = cifar10JpegTarball();
const present = existsSync(tarball);
if (!present) {
  console.warn(
    `skipping CIFAR-10 (JPEG) load test: ${tarball} is absent; place cifar10-jpeg.tar.gz in ../shared/datasets/ ` +
      'beside the repository or set HASHGUARD_CIFAR10_TGZ to its path',
  );
}

describe('CIFAR-10 (JPEG)', () => {
  test.skipIf(!present)(
    'unpacks once and loads 5 test images per class',
    async () => {
      const root = await ensureCifar10Jpeg();
      expect(existsSync(join(root, '.unpacked'))).toBe(true);
      // No temp folders are left beside the cache.
      expect(readdirSync(dirname(root)).filter((n) => n.startsWith('cifar10-jpeg.tmp-'))).toEqual(
        [],
      );
      const ds = await loadCifar10Jpeg({ split: 'test', limit: 5 });
      expect(ds.classes).toEqual([...CIFAR10_CLASSES]);
      expect(ds.count).toBe(50);
      expect(ds.shape).toEqual([3, 32, 32]);
      expect(Array.from(ds.labels)).toEqual(
        Array.from({ length: 50 }, (_, i) => Math.floor(i / 5)),
      );
      expect(ds.sha256).toBe(KNOWN_CHECKSUMS['cifar10-jpeg']['cifar10-jpeg.tar.gz']);
      expect(ds.name).toBe('cifar10-jpeg/test[5/class]');
      const [lo, hi] = minMax(ds.images);
      expect(lo).toBeGreaterThanOrEqual(0);
      expect(hi).toBeLessThanOrEqual(1);
      expect(hi - lo).toBeGreaterThan(0.5);
    },
    300_000,
  );

  test('a wrong tarball is refused before anything is unpacked', async () => {
    const dir = tempDir('cifar-jpeg-bad');
    const fake = join(dir, 'renamed.tar.gz');
    writeFileSync(fake, new Uint8Array([0x1f, 0x8b, 8, 0]));
    const cache = join(dir, 'cache');
    const err = await ensureCifar10Jpeg({ tarball: fake, cacheDir: cache }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as Error).message).toContain(fake);
    expect((err as Error).message).toContain('sha256 mismatch');
    expect(existsSync(cache)).toBe(false);
  });

  test('a missing tarball names the path and says where to put it', async () => {
    const dir = tempDir('cifar-jpeg-missing');
    const err = await ensureCifar10Jpeg({
      tarball: join(dir, 'none.tar.gz'),
      cacheDir: join(dir, 'cache'),
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect((err as Error).message).toContain(join(dir, 'none.tar.gz'));
    expect((err as Error).message).toContain('HASHGUARD_CIFAR10_TGZ');
  });
});

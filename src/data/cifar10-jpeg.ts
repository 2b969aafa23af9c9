// CIFAR-10 as JPEG files (../shared/datasets/cifar10-jpeg.tar.gz): checksum-verified, unpacked once into a
// cache folder with the pure-TS tar reader (no system `tar`, so Deno works too), then read as an ImageFolder.
import type { Dataset, DatasetSplits } from './dataset.ts';
import { KNOWN_CHECKSUMS, sha256Hex } from './checksum.ts';
import { DatasetError } from './dataset-error.ts';
import { readDataFile } from './read-data-file.ts';
import { gunzipFile } from './fashion-mnist.ts';
import { loadImageFolder } from './image-folder.ts';
import { cacheDir, projectRoot, resolveSetting } from './paths.ts';
import { readTar } from './tar.ts';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const TARBALL = 'cifar10-jpeg.tar.gz';
const EXPECTED_SHA256 = KNOWN_CHECKSUMS['cifar10-jpeg'][TARBALL];
/** Written last inside the unpacked folder; holds the tarball's sha256. Its absence means "not ready". */
const MARKER = '.unpacked';

/** What to tell a user whose machine lacks the tarball. */
export const CIFAR10_JPEG_HINT = `place ${TARBALL} in ../shared/datasets/ beside the repository or set HASHGUARD_CIFAR10_TGZ to its path`;

/** Options of the CIFAR-10 JPEG functions. */
export interface Cifar10JpegOptions {
  /** Path of cifar10-jpeg.tar.gz (default: $HASHGUARD_CIFAR10_TGZ, else `<repo>/../shared/datasets/`). */
  tarball?: string;
  /** Cache folder (default: $HASHGUARD_CACHE_DIR, else `<repo>/.cache`); the data goes to `<cache>/cifar10-jpeg`. */
  cacheDir?: string;
}

/** The tarball path: option, then $HASHGUARD_CIFAR10_TGZ, then `<repo>/../shared/datasets/cifar10-jpeg.tar.gz`. */
export function cifar10JpegTarball(tarball?: string): string {
  return resolveSetting(tarball, 'HASHGUARD_CIFAR10_TGZ', () =>
    join(projectRoot(), '..', 'shared', 'datasets', TARBALL),
  );
}

async function isReady(dir: string): Promise<boolean> {
  try {
    return (await readFile(join(dir, MARKER), 'utf8')).trim() === EXPECTED_SHA256;
  } catch {
    return false;
  }
}

/**
 * Makes sure the unpacked ImageFolder tree exists and returns its root (holding train/ and test/).
 * First call: verify the tarball's sha256, unpack into a private temp folder, write the marker last, then
 * rename the folder into place, so a crash or a concurrent run never leaves a half-unpacked tree in use.
 */
export async function ensureCifar10Jpeg(options: Cifar10JpegOptions = {}): Promise<string> {
  const target = join(cacheDir(options.cacheDir), 'cifar10-jpeg');
  if (await isReady(target)) return target;
  const tgz = cifar10JpegTarball(options.tarball);
  const packed = await readDataFile(tgz, CIFAR10_JPEG_HINT);
  // Compared directly rather than by basename: a renamed copy (via HASHGUARD_CIFAR10_TGZ) is checked too.
  const actual = await sha256Hex(packed);
  if (actual !== EXPECTED_SHA256) {
    throw new DatasetError(
      tgz,
      `sha256 mismatch for known cifar10-jpeg tarball: expected ${EXPECTED_SHA256}, got ${actual}`,
    );
  }
  const entries = readTar(gunzipFile(packed, tgz), tgz);

  const tmp = `${target}.tmp-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  await mkdir(tmp, { recursive: true });
  try {
    const made = new Set<string>();
    for (const e of entries) {
      // Strip the archive's top folder (cifar10-jpeg/) so the target itself is the ImageFolder root.
      const rel = e.path.split('/').slice(1).join('/');
      if (rel === '') continue;
      const dest = join(tmp, rel);
      const dir = e.type === 'directory' ? dest : dirname(dest);
      if (!made.has(dir)) {
        await mkdir(dir, { recursive: true });
        made.add(dir);
      }
      if (e.type === 'file') await writeFile(dest, e.data);
    }
    await writeFile(join(tmp, MARKER), EXPECTED_SHA256 + '\n');
    // A stale, marker-less target (an interrupted older layout) is ours to replace.
    if (!(await isReady(target))) await rm(target, { recursive: true, force: true });
    try {
      await rename(tmp, target);
    } catch (err) {
      // Another process finished first: use its tree if it is complete.
      if (!(await isReady(target)))
        throw new DatasetError(
          target,
          `cannot move unpacked data into place: ${(err as Error).message}`,
          { cause: err },
        );
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return target;
}

/** Options of loadCifar10Jpeg. */
export interface LoadCifar10JpegOptions extends Cifar10JpegOptions {
  split: 'train' | 'test';
  /** At most this many images per class (the first by file name); decoding all 50k train images is slow. */
  limit?: number;
}

/**
 * One split of CIFAR-10 (JPEG): shape [3,32,32], classes the alphabetical folder names (= the official label
 * order). `sha256` is the verified tarball's hash (the source); a `limit` shows in the name, e.g.
 * 'cifar10-jpeg/test[5/class]'.
 */
export async function loadCifar10Jpeg(options: LoadCifar10JpegOptions): Promise<Dataset> {
  const root = await ensureCifar10Jpeg(options);
  const suffix = options.limit !== undefined ? `[${options.limit}/class]` : '';
  const ds = await loadImageFolder(root, {
    split: options.split,
    channels: 3,
    limit: options.limit,
    name: `cifar10-jpeg/${options.split}${suffix}`,
  });
  return { ...ds, sha256: EXPECTED_SHA256, background: 'any' }; // photos
}

/** Both splits of CIFAR-10 (JPEG); `limit` applies per class to each split. */
export async function loadCifar10JpegSplits(
  options: Omit<LoadCifar10JpegOptions, 'split'> = {},
): Promise<DatasetSplits> {
  return {
    train: await loadCifar10Jpeg({ ...options, split: 'train' }),
    test: await loadCifar10Jpeg({ ...options, split: 'test' }),
  };
}

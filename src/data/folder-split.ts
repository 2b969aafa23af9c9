// The seeded train/test split of a one-tree ImageFolder (`DIR/<class>/<image>`): which files of each class are
// held out, decided from the seed and the file names alone. Pure (no file access).
import { deriveStream, xxh32 } from '../hash/index.ts';

/** How a one-tree folder was split, as model.json records it (provenance.dataset.split). */
export interface FolderSplitRecord {
  seed: number;
  /** Share of each class held out as the test split, in (0, 1]; 1 = every image is test. */
  fraction: number;
  rule: 'per-class-hash-rank';
}

const TAG = 0x666f6c64; // 'fold'

/**
 * A seeded u32 key of a file name: xxHash32 chained over the name's UTF-8 bytes taken as little-endian u32
 * words, then its byte length. It depends on the seed and the name only, never on listing order.
 */
export function fileKey(seed: number, name: string): number {
  const bytes = new TextEncoder().encode(name);
  let h = deriveStream(seed, TAG);
  for (let i = 0; i < bytes.length; i += 4) {
    const word =
      (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) >>> 0;
    h = xxh32(word, i >>> 2, h);
  }
  return xxh32(bytes.length, 0xffffffff, h);
}

/**
 * How many of a class's `n` images are held out: round(fraction · n), at least 1 and at most n − 1 so both
 * splits see the class; a class of one image stays in training. fraction 1 holds out all of them.
 */
export function heldOutCount(n: number, fraction: number): number {
  if (fraction >= 1) return n;
  if (n < 2) return 0;
  return Math.min(n - 1, Math.max(1, Math.round(fraction * n)));
}

/**
 * The split of one tree, per class: `true` for each file held out as test. Within a class the files with the
 * smallest fileKey(seed, name) are held out (ties by name), so the same seed and names give the same split
 * whatever order the file system lists them in, and adding a file moves at most one other file between splits.
 */
export function splitPerClass(
  classes: readonly (readonly string[])[],
  fraction: number,
  seed: number,
): boolean[][] {
  if (!(fraction > 0 && fraction <= 1))
    throw new RangeError(`folder split: fraction must be in (0, 1], got ${fraction}`);
  return classes.map((names) => {
    const keyed = names.map((name, i) => ({ i, name, key: fileKey(seed, name) }));
    keyed.sort((a, b) => a.key - b.key || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const held = new Array<boolean>(names.length).fill(false);
    for (const { i } of keyed.slice(0, heldOutCount(names.length, fraction))) held[i] = true;
    return held;
  });
}

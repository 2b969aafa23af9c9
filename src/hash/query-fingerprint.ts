// Query fingerprints for stateful attack detection: the preprocessed input is average-pooled into cells,
// quantized on `tables` grids offset by a fraction of a step, and every non-flat patch of cells is hashed with
// its channel, position and grid; the `topK` smallest distinct hashes form the fingerprint (docs/detection.md).
import { xxh32Bits } from './xxh32.ts';

export interface FingerprintParams {
  /** Pixels per cell side (average pooling). */
  pool: number;
  /** Quantization step of a cell's mean, in input units (inputs in [0, 1]); at least 1/254, so a level fits a byte. */
  step: number;
  /** Cells per patch side. */
  patch: number;
  /** Quantization grids, offset by step / tables from each other, so a mean near one grid's edge is inside another's. */
  tables: number;
  /** Most hashes kept (the smallest distinct ones). */
  topK: number;
  /** Seed of the patch hash. */
  seed: number;
}

/**
 * The fingerprint of one input of shape [C, H, W] (or any shape, read as [1, 1, size]) with values in [0, 1]
 * (NaN counts as 0): at most `topK` distinct u32 hashes in ascending order. Patches whose cells all quantize
 * alike (flat background) are left out, so a blank input has an empty fingerprint.
 *
 * Why pooled cells: an L∞ change of δ moves every cell mean by at most δ, so a dense small perturbation (noise,
 * a gradient-estimation probe) keeps most patches, while a different image changes most of them. Positions are
 * part of the hash: a shifted copy is a different query.
 */
export function fingerprint(
  x: ArrayLike<number>,
  shape: readonly number[],
  p: FingerprintParams,
): Uint32Array {
  const [c, h, w] = shape.length === 3 ? shape : [1, 1, x.length];
  const ph = Math.min(p.pool, h),
    pw = Math.min(p.pool, w);
  const ch = Math.floor(h / ph),
    cw = Math.floor(w / pw);
  // Cell sums, each added in raster order of its pixels (row by row), so the sums are the same bits whatever
  // the loop nest; a row's pixels are walked cell by cell with no division per pixel.
  const cells = new Float64Array(c * ch * cw);
  for (let k = 0; k < c; k++)
    for (let y = 0; y < ch * ph; y++) {
      const row = (k * h + y) * w,
        base = (k * ch + ((y / ph) | 0)) * cw;
      for (let cx = 0; cx < cw; cx++) {
        let sum = cells[base + cx];
        // Clamped to [0, 1] without a data-dependent branch (a digit's edges defeat prediction); adding 0 leaves
        // the sum's bits as skipping would, and NaN fails both comparisons, so it adds 0 too.
        for (let i = cx * pw, end = i + pw; i < end; i++) {
          const v = x[row + i];
          sum += v > 0 ? (v < 1 ? v : 1) : 0;
        }
        cells[base + cx] = sum;
      }
    }
  const area = ph * pw;
  const ah = Math.min(p.patch, ch),
    aw = Math.min(p.patch, cw);
  const q = new Int32Array(cells.length);
  const hashes = new Uint32Array(p.tables * c * (ch - ah + 1) * (cw - aw + 1));
  let n = 0;
  for (let g = 0; g < p.tables; g++) {
    const offset = (g / p.tables) * p.step;
    // The quotient is never negative, so the Int32Array's truncation is the floor.
    for (let i = 0; i < cells.length; i++) q[i] = (cells[i] / area + offset) / p.step;
    for (let k = 0; k < c; k++)
      for (let y = 0; y + ah <= ch; y++)
        for (let i = 0; i + aw <= cw; i++) {
          const at = (k * ch + y) * cw + i,
            first = q[at];
          // Flat patches (most of a digit's background) are found before any hashing.
          let flat = true;
          for (let dy = 0; dy < ah && flat; dy++)
            for (let dx = 0; dx < aw; dx++) if (q[at + dy * cw + dx] !== first) flat = false;
          if (flat) continue;
          // A cell's level is below 256 (step ≥ 1/254), so four levels pack into one word: a 2×2 patch costs one
          // xxHash32 round (with its channel, position and grid), a larger one a round per four cells.
          let hash = ((k * 4096 + y) * 4096 + i) ^ (g << 28),
            word = 0,
            bytes = 0;
          for (let dy = 0; dy < ah; dy++)
            for (let dx = 0; dx < aw; dx++) {
              word |= q[at + dy * cw + dx] << (8 * bytes);
              if (++bytes === 4) {
                hash = xxh32Bits(hash, word, p.seed);
                word = bytes = 0;
              }
            }
          if (bytes) hash = xxh32Bits(hash, word, p.seed);
          hashes[n++] = hash;
        }
  }
  const sorted = hashes.subarray(0, n).sort();
  let m = 0;
  for (let i = 0; i < n && m < p.topK; i++)
    if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[m++] = sorted[i];
  return sorted.slice(0, m);
}

/** Hashes two ascending fingerprints share. */
export function sharedHashes(a: Uint32Array, b: Uint32Array): number {
  let i = 0,
    j = 0,
    s = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) (s++, i++, j++);
    else if (a[i] < b[j]) i++;
    else j++;
  }
  return s;
}

/**
 * Whether two fingerprints of `la` and `lb` hashes sharing `shared` match: at least `share` of the smaller one,
 * and at least `least` in all (near-blank inputs, with few patches, match nothing).
 */
export function fingerprintsMatch(
  shared: number,
  la: number,
  lb: number,
  share: number,
  least: number,
): boolean {
  return shared >= least && shared >= share * Math.min(la, lb);
}

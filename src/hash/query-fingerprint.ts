// Query fingerprints for stateful attack detection: the preprocessed input is average-pooled into cells,
// quantized on `tables` grids offset by a fraction of a step, and every non-flat patch of cells is hashed with
// its channel, position and grid; the `topK` smallest distinct hashes form the fingerprint (docs/detection.md).
import { xxh32 } from './xxh32.ts';

export interface FingerprintParams {
  /** Pixels per cell side (average pooling). */
  pool: number;
  /** Quantization step of a cell's mean, in input units (inputs in [0, 1]). */
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
  const cells = new Float64Array(c * ch * cw);
  for (let k = 0; k < c; k++)
    for (let y = 0; y < ch * ph; y++)
      for (let i = 0; i < cw * pw; i++) {
        const v = x[(k * h + y) * w + i];
        if (v > 0) cells[(k * ch + ((y / ph) | 0)) * cw + ((i / pw) | 0)] += Math.min(v, 1);
      }
  const area = ph * pw;
  const ah = Math.min(p.patch, ch),
    aw = Math.min(p.patch, cw);
  const q = new Int32Array(cells.length);
  const hashes: number[] = [];
  for (let g = 0; g < p.tables; g++) {
    const offset = (g / p.tables) * p.step;
    for (let i = 0; i < cells.length; i++) q[i] = Math.floor((cells[i] / area + offset) / p.step);
    for (let k = 0; k < c; k++)
      for (let y = 0; y + ah <= ch; y++)
        for (let i = 0; i + aw <= cw; i++) {
          const first = q[(k * ch + y) * cw + i];
          let hash = xxh32((((k * 4096 + y) * 4096 + i) >>> 0) ^ (g << 28), ah * 256 + aw, p.seed);
          let flat = true;
          for (let dy = 0; dy < ah; dy++)
            for (let dx = 0; dx < aw; dx++) {
              const v = q[(k * ch + y + dy) * cw + i + dx];
              if (v !== first) flat = false;
              hash = xxh32(hash, v, p.seed);
            }
          if (!flat) hashes.push(hash);
        }
  }
  const sorted = Uint32Array.from(hashes).sort();
  const out: number[] = [];
  for (let i = 0; i < sorted.length && out.length < p.topK; i++)
    if (i === 0 || sorted[i] !== sorted[i - 1]) out.push(sorted[i]);
  return Uint32Array.from(out);
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

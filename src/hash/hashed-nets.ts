// HashedNets indexing (Chen et al., ICML 2015, arXiv 1504.04788; docs/design.md §3): which of the K real
// weights, and with which sign, each entry of a layer's full-size virtual weight matrix reads.
import { xxh32 } from './xxh32.ts';

/** XOR applied to a layer's seed for the sign hash, so bucket and sign use independent hashes. */
export const SIGN_SEED_XOR = 0x2545f491;

/** bucket(i, j) = xxh32(i, j, seed) mod K. */
export function hashBucket(i: number, j: number, seed: number, buckets: number): number {
  return xxh32(i, j, seed) % buckets;
}

/** sign(i, j) = 1 − 2·(xxh32(i, j, seed ^ 0x2545F491) & 1), i.e. ±1. */
export function hashSign(i: number, j: number, seed: number): number {
  return 1 - 2 * (xxh32(i, j, (seed ^ SIGN_SEED_XOR) >>> 0) & 1);
}

/**
 * The index table of one hashed layer with a [rows, cols] virtual weight (dense: rows = outDim, cols =
 * inDim; conv: rows = outChannels, cols = inChannels·k·k, j = (ci·k + ky)·k + kx), row-major.
 */
export interface HashTable {
  rows: number;
  cols: number;
  buckets: number;
  seed: number;
  /** bucket index of entry i·cols + j. */
  bucket: Uint32Array;
  /** ±1 of entry i·cols + j. */
  sign: Int8Array;
}

/** K = ceil(c · n_in · n_out) for compression c, at least 1. */
export function bucketsFor(compression: number, rows: number, cols: number): number {
  if (!(compression > 0 && compression <= 1))
    throw new Error(`hashed layer: compression ${compression} must be in (0, 1]`);
  // Round away float noise first (1/8 · 235200 must give exactly 29400, not 29401).
  return Math.max(1, Math.ceil(Math.round(compression * rows * cols * 1e6) / 1e6));
}

// Tables depend only on (rows, cols, seed, K); a model loaded or trained builds each once and reuses it.
const tableCache = new Map<string, HashTable>();

/** The table for a layer, computed once per (rows, cols, seed, buckets) and cached. */
export function hashTable(rows: number, cols: number, seed: number, buckets: number): HashTable {
  if (!(Number.isInteger(buckets) && buckets >= 1))
    throw new Error(`hashed layer: buckets must be a positive integer, got ${buckets}`);
  const key = `${rows}x${cols}:${seed >>> 0}:${buckets}`;
  let t = tableCache.get(key);
  if (!t) {
    const bucket = new Uint32Array(rows * cols);
    const sign = new Int8Array(rows * cols);
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < cols; j++) {
        bucket[i * cols + j] = hashBucket(i, j, seed >>> 0, buckets);
        sign[i * cols + j] = hashSign(i, j, seed >>> 0);
      }
    t = { rows, cols, buckets, seed: seed >>> 0, bucket, sign };
    tableCache.set(key, t);
  }
  return t;
}

// The inverse of a HashedNets index table as CSR (bucket → its virtual-weight entries), the input that lets the
// -grad-weight kernels of hashed layers gather per bucket instead of scatter-adding (WGSL has no float atomics).

/** Bucket k owns entries[offsets[k] .. offsets[k + 1]), flat indices e = i·cols + j in ascending order. */
export interface BucketEntries {
  offsets: Uint32Array;
  entries: Uint32Array;
}

// Depends only on the table (hence on rows, cols, seed, K), so a layer builds it once; keyed by its bucket array.
const cache = new WeakMap<Uint32Array, BucketEntries>();

/**
 * Counting sort of the entries by bucket; `bucket[e]` is entry e's bucket (src/hash's table or the hash-table
 * kernel's output). Ascending e within a bucket is the reference scatter's summation order.
 */
export function bucketEntries(bucket: Uint32Array, buckets: number): BucketEntries {
  const hit = cache.get(bucket);
  if (hit && hit.offsets.length === buckets + 1) return hit;
  const offsets = new Uint32Array(buckets + 1);
  for (let e = 0; e < bucket.length; e++) {
    const k = bucket[e];
    if (k >= buckets)
      throw new Error(`bucketEntries: entry ${e} has bucket ${k}, outside [0, ${buckets})`);
    offsets[k + 1]++;
  }
  for (let k = 0; k < buckets; k++) offsets[k + 1] += offsets[k];
  const entries = new Uint32Array(bucket.length);
  const next = offsets.slice(0, buckets);
  for (let e = 0; e < bucket.length; e++) entries[next[bucket[e]]++] = e;
  const result = { offsets, entries };
  cache.set(bucket, result);
  return result;
}

// Shared helper: xxHash32 of two u32 words and the HashedNets bucket/sign built on it (DESIGN section 3).
// Must equal src/hash/xxh32.ts and src/hash/hashed-nets.ts bit for bit; WGSL u32 arithmetic wraps like Math.imul.

const XXH_P2: u32 = 0x85EBCA77u;
const XXH_P3: u32 = 0xC2B2AE3Du;
const XXH_P4: u32 = 0x27D4EB2Fu;
const XXH_P5: u32 = 0x165667B1u;
/** XOR applied to a layer's seed for the sign hash (SIGN_SEED_XOR in TS). */
const HASH_SIGN_SEED_XOR: u32 = 0x2545F491u;

fn xxh_rotl(x: u32, r: u32) -> u32 {
  return (x << r) | (x >> (32u - r));
}

// XXH32 of the 8 little-endian bytes of a then b, with seed.
fn xxh32_2(a: u32, b: u32, seed: u32) -> u32 {
  var h = seed + XXH_P5 + 8u;
  h = xxh_rotl(h + a * XXH_P3, 17u) * XXH_P4;
  h = xxh_rotl(h + b * XXH_P3, 17u) * XXH_P4;
  h = h ^ (h >> 15u);
  h = h * XXH_P2;
  h = h ^ (h >> 13u);
  h = h * XXH_P3;
  h = h ^ (h >> 16u);
  return h;
}

// bucket(i, j) = xxh32(i, j, seed) mod K.
fn hashed_bucket(i: u32, j: u32, seed: u32, buckets: u32) -> u32 {
  return xxh32_2(i, j, seed) % buckets;
}

// sign(i, j) = 1 - 2·(xxh32(i, j, seed ^ 0x2545F491) & 1), i.e. ±1.
fn hashed_sign(i: u32, j: u32, seed: u32) -> f32 {
  return 1.0 - 2.0 * f32(xxh32_2(i, j, seed ^ HASH_SIGN_SEED_XOR) & 1u);
}

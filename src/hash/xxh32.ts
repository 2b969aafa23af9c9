// xxHash32 of two u32 words (the 8 little-endian bytes of a then b), exactly as docs/design.md §3.
// Used for HashedNets bucket/sign indexing and for the counter RNG; WGSL mirrors it bit for bit.

const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;

function rotl(x: number, r: number): number {
  return ((x << r) | (x >>> (32 - r))) >>> 0;
}

/** XXH32 of the 8 bytes LE(a) ++ LE(b) with the given seed. All arguments are u32. */
export function xxh32(a: number, b: number, seed: number): number {
  // NOTE: Math.imul keeps products exact in 32 bits; `>>> 0` turns the result back into an unsigned value.
  let h = (seed + P5 + 8) >>> 0;
  h = Math.imul(rotl((h + Math.imul(a >>> 0, P3)) >>> 0, 17), P4) >>> 0;
  h = Math.imul(rotl((h + Math.imul(b >>> 0, P3)) >>> 0, 17), P4) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, P2) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, P3) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

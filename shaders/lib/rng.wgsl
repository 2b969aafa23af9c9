// requires: hash
// Shared helper: the counter RNG of DESIGN section 3 (src/hash/rng.ts). u32 and uniform draws are
// bit-identical to TS; normal uses WGSL log/cos, whose precision is implementation-defined (tolerance).

const RNG_SEED: u32 = 0x9E3779B9u;
// 2^-24: u >> 8 has 24 bits, so the product is exact in f32.
const RNG_TWO_POW_M24: f32 = 5.9604644775390625e-8;
const RNG_TWO_PI: f32 = 6.283185307179586;

// deriveStream(seed, tag) of src/hash/rng.ts: a sub-stream id per purpose tag, so uses of one seed never share draws.
fn rng_derive_stream(seed: u32, tag: u32) -> u32 {
  return xxh32_2(seed, tag, 0x2545F491u);
}

fn rng_u32(stream: u32, counter: u32) -> u32 {
  return xxh32_2(counter, stream, RNG_SEED);
}

// Uniform in [0, 1) with 24 bits of resolution.
fn rng_uniform(stream: u32, counter: u32) -> f32 {
  return f32(rng_u32(stream, counter) >> 8u) * RNG_TWO_POW_M24;
}

// ln(u) for u in (0, 1]. NOTE: GPU log has an absolute error near 1e-7, which near u = 1 (|ln u| tiny) makes
// sqrt(-2 ln u) wrong by up to 1.5e-5 on llvmpipe; there the series -Σ dⁿ/n with d = 1 - u (exact: u is a
// multiple of 2^-24) is accurate to f32 rounding (truncation below d⁷/8 ≤ 2^-31 for d < 1/16).
fn rng_log_unit(u: f32) -> f32 {
  let d = 1.0 - u;
  if (d < 0.0625) {
    return -d * (1.0 + d * (0.5 + d * (1.0 / 3.0 + d * (0.25 + d * (0.2 + d * (1.0 / 6.0 + d / 7.0))))));
  }
  return log(u);
}

// Box-Muller from draws 2c and 2c+1 (u32 wrap of 2c matches TS's `>>> 0`). u1 is in (0, 1]: never log(0).
fn rng_normal(stream: u32, counter: u32) -> f32 {
  let u1 = f32((rng_u32(stream, 2u * counter) >> 8u) + 1u) * RNG_TWO_POW_M24;
  let u2 = rng_uniform(stream, 2u * counter + 1u);
  // cos(2π·u2) = -cos(2π·(u2 - 0.5)): the argument stays in [-π, π], where GPU cos is most accurate;
  // u2 - 0.5 is exact (u2 is a multiple of 2^-24).
  return -sqrt(-2.0 * rng_log_unit(u1)) * cos(RNG_TWO_PI * (u2 - 0.5));
}

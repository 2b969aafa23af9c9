// Shared helper: a + (b − a)·u for f32 a, b ≥ 0 and u = m·2^-24 (a uniform draw), rounded ONCE to f32 (nearest,
// ties to even), as the TS reference's Math.fround(a + (b − a)·u) does in double precision. Plain f32 arithmetic
// rounds two or three times (1-ulp misses), and fma is not guaranteed fused in WGSL, so the exact value
//   a·(1 − u) + b·u = (A·(2^24 − m)·2^ea + B·m·2^eb)·2^-24      (a = A·2^ea, b = B·2^eb, A, B < 2^24)
// is formed in 64-bit integers (vec2u: x = low word, y = high word) and rounded by hand. Subnormals included.

// (mantissa, exponent) with x = mantissa·2^exponent, for finite x (the sign is ignored).
fn lerp_split(x: f32) -> vec2i {
  let bits = bitcast<u32>(x);
  let e = i32((bits >> 23u) & 0xFFu);
  let f = i32(bits & 0x7FFFFFu);
  if (e == 0) {
    return vec2i(f, -149);
  }
  return vec2i(f | 0x800000, e - 150);
}

// Full 64-bit product of two u32 (16-bit limbs: every partial product fits in a u32).
fn lerp_mul(a: u32, b: u32) -> vec2u {
  let a0 = a & 0xFFFFu;
  let a1 = a >> 16u;
  let b0 = b & 0xFFFFu;
  let b1 = b >> 16u;
  let p00 = a0 * b0;
  let p01 = a0 * b1;
  let p10 = a1 * b0;
  let mid = (p00 >> 16u) + (p01 & 0xFFFFu) + (p10 & 0xFFFFu);
  return vec2u((mid << 16u) | (p00 & 0xFFFFu), a1 * b1 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u));
}

// NOTE: WGSL takes shift amounts modulo 32, so shifts by 0 and by ≥ 32 are spelled out. s < 64.
fn lerp_shl(v: vec2u, s: u32) -> vec2u {
  if (s == 0u) {
    return v;
  }
  if (s >= 32u) {
    return vec2u(0u, v.x << (s - 32u));
  }
  return vec2u(v.x << s, (v.y << s) | (v.x >> (32u - s)));
}

fn lerp_shr(v: vec2u, s: u32) -> vec2u {
  if (s == 0u) {
    return v;
  }
  if (s >= 32u) {
    return vec2u(v.y >> (s - 32u), 0u);
  }
  return vec2u((v.x >> s) | (v.y << (32u - s)), v.y >> s);
}

fn lerp_add(a: vec2u, b: vec2u) -> vec2u {
  let lo = a.x + b.x;
  return vec2u(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}

fn lerp_sub(a: vec2u, b: vec2u) -> vec2u {
  return vec2u(a.x - b.x, a.y - b.y - select(0u, 1u, a.x < b.x));
}

// a < b as unsigned 64-bit.
fn lerp_less(a: vec2u, b: vec2u) -> bool {
  return a.y < b.y || (a.y == b.y && a.x < b.x);
}

// v >> s with every shifted-out bit ORed into bit 0 (a sticky bit for rounding). Any s ≥ 0.
fn lerp_shr_sticky(v: vec2u, s: u32) -> vec2u {
  if (s >= 64u) {
    return vec2u(select(0u, 1u, v.x != 0u || v.y != 0u), 0u);
  }
  let r = lerp_shr(v, s);
  let lost = any(lerp_shl(r, s) != v);
  return vec2u(r.x | select(0u, 1u, lost), r.y);
}

// Round-to-nearest-even f32 of a + (b − a)·m·2^-24, m < 2^24, a and b finite and ≥ 0.
fn lerp_exact(a: f32, b: f32, m: u32) -> f32 {
  if (m == 0u) {
    return a;
  }
  let sa = lerp_split(a);
  let sb = lerp_split(b);
  // Two terms T·2^(e − 24), each T < 2^48; `big` has the larger exponent. T = 0 only for a zero operand.
  var big = lerp_mul(u32(sb.x), m);
  var small = lerp_mul(u32(sa.x), 0x1000000u - m);
  var d = sb.y - sa.y;
  var bigExp = sb.y;
  if (d < 0) {
    let t = big;
    big = small;
    small = t;
    d = -d;
    bigExp = sa.y;
  }
  // Sum S on the grid 2^grid: big·2^15 < 2^63, so S < 2^64. When small must shift right (d > 15), big is nonzero
  // with ≥ 24 significant bits above bit 15 (both operands positive), so a sticky bit 0 rounds correctly.
  let grid = bigExp - 24 - 15;
  var shifted: vec2u;
  if (d <= 15) {
    shifted = lerp_shl(small, u32(15 - d));
  } else {
    shifted = lerp_shr_sticky(small, u32(d - 15));
  }
  let sum = lerp_add(lerp_shl(big, 15u), shifted);
  if (sum.x == 0u && sum.y == 0u) {
    return 0.0;
  }
  var lead: i32;
  if (sum.y != 0u) {
    lead = 32 + i32(firstLeadingBit(sum.y));
  } else {
    lead = i32(firstLeadingBit(sum.x));
  }
  // Keep 24 significant bits, or fewer where the result is subnormal (its last bit is worth 2^-149).
  let cut = max(lead - 23, -149 - grid);
  var mant: u32;
  if (cut <= 0) {
    mant = sum.x << u32(-cut);
  } else {
    let q = lerp_shr(sum, u32(cut));
    let rest = lerp_sub(sum, lerp_shl(q, u32(cut)));
    let half = lerp_shl(vec2u(1u, 0u), u32(cut - 1));
    mant = q.x;
    if (lerp_less(half, rest) || (all(rest == half) && (mant & 1u) == 1u)) {
      mant += 1u;
    }
  }
  var exponent = grid + cut;
  if (mant == 0x1000000u) {
    mant = 0x800000u;
    exponent += 1;
  }
  if (mant < 0x800000u) {
    // Subnormal (exponent is −149): the mantissa is the bit pattern.
    return bitcast<f32>(mant);
  }
  return bitcast<f32>((u32(exponent + 150) << 23u) | (mant & 0x7FFFFFu));
}

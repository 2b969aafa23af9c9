// Counter-based RNG (docs/design.md §3): every draw is a pure function of (stream, counter), so results are
// reproducible, order-independent, and identical on the CPU and in WGSL.
import { xxh32 } from './xxh32.ts';

const RNG_SEED = 0x9e3779b9;
const TWO_POW_M24 = 1 / 16777216;

/** Raw u32 draw. */
export function randomU32(stream: number, counter: number): number {
  return xxh32(counter >>> 0, stream >>> 0, RNG_SEED);
}

/** Uniform in [0, 1) with 24 bits of resolution (exact in f32). */
export function uniform(stream: number, counter: number): number {
  return (randomU32(stream, counter) >>> 8) * TWO_POW_M24;
}

/** Standard normal by Box-Muller from draws 2c and 2c+1, rounded to f32 at each step as WGSL computes it. */
export function normal(stream: number, counter: number): number {
  // u1 in (0, 1] so ln never sees 0.
  const u1 = ((randomU32(stream, 2 * counter) >>> 8) + 1) * TWO_POW_M24;
  const u2 = uniform(stream, 2 * counter + 1);
  const f = Math.fround;
  const r = f(Math.sqrt(f(-2 * f(Math.log(u1)))));
  return f(r * f(Math.cos(f(2 * Math.PI * u2))));
}

/** Integer in [0, n) from a uniform draw (n ≤ 2^24 keeps it unbiased enough for shuffles and sampling). */
export function randomInt(stream: number, counter: number, n: number): number {
  return Math.min(n - 1, Math.floor(uniform(stream, counter) * n));
}

/**
 * Seeded permutation of 0..n-1 (Fisher-Yates driven by the counter RNG).
 * Counter i draws the swap partner at step i, so a permutation is a function of (stream, n) only.
 */
export function permutation(stream: number, n: number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    // Full 32-bit draw modulo (i+1): n can exceed 2^24 for big index spaces.
    const j = randomU32(stream, i) % (i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** Derives a sub-stream id from a seed and a purpose tag, so separate uses of one seed never share draws. */
export function deriveStream(seed: number, tag: number): number {
  return xxh32(seed >>> 0, tag >>> 0, 0x2545f491);
}

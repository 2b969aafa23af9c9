// The counter RNG: draws are pure functions of (stream, counter); uniform in [0,1); normals finite and
// standard; permutations are permutations and reproducible.
import { describe, expect, test } from 'bun:test';
import { deriveStream, normal, permutation, randomU32, uniform } from '../../src/hash/rng.ts';

describe('counter RNG', () => {
  test('same (stream, counter) → same draw; neighbours differ', () => {
    expect(randomU32(7, 3)).toBe(randomU32(7, 3));
    expect(randomU32(7, 3)).not.toBe(randomU32(7, 4));
    expect(randomU32(7, 3)).not.toBe(randomU32(8, 3));
  });
  test('uniform is in [0, 1) with a plausible mean, and exactly representable in f32', () => {
    let s = 0;
    for (let i = 0; i < 20000; i++) {
      const u = uniform(1, i);
      expect(u >= 0 && u < 1).toBe(true);
      expect(Math.fround(u)).toBe(u);
      s += u;
    }
    expect(Math.abs(s / 20000 - 0.5)).toBeLessThan(0.01);
  });
  test('normal has mean ≈ 0 and variance ≈ 1 and is always finite', () => {
    let s = 0,
      s2 = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const z = normal(2, i);
      expect(Number.isFinite(z)).toBe(true);
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.03);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.05);
  });
  test('permutation is a reproducible permutation', () => {
    const p = permutation(5, 1000);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(permutation(5, 1000))).toEqual(Array.from(p));
    expect(Array.from(permutation(6, 1000))).not.toEqual(Array.from(p));
  });
  test('derived streams differ by tag', () => {
    expect(deriveStream(1, 2)).not.toBe(deriveStream(1, 3));
    expect(deriveStream(1, 2)).toBe(deriveStream(1, 2));
  });
});

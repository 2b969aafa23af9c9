// xxHash32 of two u32 words against an independent reference (xxhashjs) on 10,000 seeded random triples and
// edge values, plus the golden vectors of HashedNets indexing and the counter RNG (test/golden/hash-vectors.json).
import { describe, expect, test } from 'bun:test';
import { refXxh32 } from '../helpers/ref-xxh32.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { xxh32 } from '../../src/hash/xxh32.ts';
import { hashBucket, hashSign, hashTable, bucketsFor } from '../../src/hash/hashed-nets.ts';
import { normal, randomU32, uniform } from '../../src/hash/rng.ts';

const golden = JSON.parse(
  readFileSync(join(import.meta.dir, '../golden/hash-vectors.json'), 'utf8'),
);

describe('xxh32', () => {
  test('matches xxhashjs on 10,000 random (a, b, seed) triples', () => {
    // Inputs from a simple LCG independent of the function under test.
    let s = 12345;
    const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
    let mismatches = 0;
    for (let i = 0; i < 10000; i++) {
      const a = next(),
        b = next(),
        seed = next();
      if (xxh32(a, b, seed) !== refXxh32(a, b, seed)) mismatches++;
    }
    expect(mismatches).toBe(0);
  });
  test('golden vectors (edge values, computed by the reference)', () => {
    expect(golden.xxh32.length).toBe(64);
    for (const { a, b, seed, h } of golden.xxh32) expect(xxh32(a, b, seed)).toBe(h);
  });
});

describe('HashedNets indexing', () => {
  test('golden bucket and sign values', () => {
    for (const { i, j, seed, buckets, bucket, sign } of golden.hashed) {
      expect(hashBucket(i, j, seed, buckets)).toBe(bucket);
      expect(hashSign(i, j, seed)).toBe(sign);
    }
  });
  test('bucket/sign follow the formula of docs/design.md §3', () => {
    expect(hashBucket(3, 4, 9, 100)).toBe(refXxh32(3, 4, 9) % 100);
    expect(hashSign(3, 4, 9)).toBe(1 - 2 * (refXxh32(3, 4, (9 ^ 0x2545f491) >>> 0) & 1));
  });
  test('tables are cached, row-major, and use every bucket about equally', () => {
    const t = hashTable(300, 784, 11, bucketsFor(1 / 8, 300, 784));
    expect(t.buckets).toBe(29400);
    expect(hashTable(300, 784, 11, 29400)).toBe(t);
    expect(t.bucket[5 * 784 + 7]).toBe(hashBucket(5, 7, 11, 29400));
    const counts = new Uint32Array(t.buckets);
    for (const k of t.bucket) counts[k]++;
    // 8 entries per bucket on average: a uniform hash gives Poisson(8) loads, so e^-8 ≈ 0.03% empty buckets.
    const empty = counts.filter((c) => c === 0).length;
    expect(empty / counts.length).toBeLessThan(0.001);
    expect(Math.max(...counts)).toBeLessThan(30);
    const plus = t.sign.reduce((s, v) => s + (v > 0 ? 1 : 0), 0);
    expect(Math.abs(plus / t.sign.length - 0.5)).toBeLessThan(0.01);
  });
  test('bucketsFor is exact for the usual compressions and rejects nonsense', () => {
    expect(bucketsFor(1 / 8, 300, 784)).toBe(29400);
    expect(bucketsFor(1 / 64, 100, 300)).toBe(469);
    expect(() => bucketsFor(0, 3, 3)).toThrow(/compression/);
    expect(() => bucketsFor(2, 3, 3)).toThrow(/compression/);
  });
});

describe('counter RNG goldens', () => {
  test('u32 and uniform are bit-exact; normal within f32 rounding', () => {
    for (const g of golden.rng) {
      expect(randomU32(g.stream, g.counter)).toBe(g.u32);
      expect(uniform(g.stream, g.counter)).toBe(g.uniform);
      expect(Math.abs(normal(g.stream, g.counter) - g.normal)).toBeLessThanOrEqual(
        1e-6 * Math.max(1, Math.abs(g.normal)),
      );
    }
  });
  test('u32 is xxh32(counter, stream, 0x9E3779B9)', () => {
    expect(randomU32(5, 6)).toBe(refXxh32(6, 5, 0x9e3779b9));
  });
});

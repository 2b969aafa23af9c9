// resizeCHW: exact values for area shrinking and half-pixel bilinear enlarging.
import { test, expect, describe } from 'bun:test';
import { resizeCHW } from '../../src/data/index.ts';

describe('resizeCHW', () => {
  test('area 4×4 → 2×2 is the block mean, per channel', () => {
    const src = new Float32Array(2 * 16);
    for (let i = 0; i < 16; i++) { src[i] = i / 16; src[16 + i] = 1 - i / 16; }
    const out = resizeCHW(src, 2, 4, 4, 2, 2);
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length / 16;
    expect(Array.from(out.subarray(0, 4))).toEqual([mean([0, 1, 4, 5]), mean([2, 3, 6, 7]), mean([8, 9, 12, 13]), mean([10, 11, 14, 15])].map(Math.fround));
    expect(out[4]).toBeCloseTo(1 - 2.5 / 16, 6);
  });

  test('area with a fractional ratio (3 → 2) weights partial pixels', () => {
    const out = resizeCHW(new Float32Array([0, 0.5, 1]), 1, 1, 3, 1, 2, 'area');
    // out[0] covers [0, 1.5): (0·1 + 0.5·0.5) / 1.5
    expect(out[0]).toBeCloseTo(0.25 / 1.5, 6);
    expect(out[1]).toBeCloseTo((0.5 * 0.5 + 1) / 1.5, 6);
  });

  test('bilinear 2 → 4 uses half-pixel centres with clamped edges', () => {
    const out = resizeCHW(new Float32Array([0, 1]), 1, 1, 2, 1, 4);
    expect(Array.from(out)).toEqual([0, 0.25, 0.75, 1]);
  });

  test('constant images stay constant, same size is a copy, range is kept', () => {
    const src = new Float32Array(3 * 5 * 7).fill(0.6);
    for (const [h, w] of [[2, 3], [9, 11], [5, 3]]) {
      for (const v of resizeCHW(src, 3, 5, 7, h, w)) expect(v).toBeCloseTo(0.6, 6);
    }
    const same = resizeCHW(src, 3, 5, 7, 5, 7);
    expect(same).not.toBe(src);
    expect(Array.from(same)).toEqual(Array.from(src));
    const ones = resizeCHW(new Float32Array(13 * 17).fill(1), 1, 13, 17, 5, 4);
    for (const v of ones) expect(v).toBeLessThanOrEqual(1);
  });

  test('bad arguments', () => {
    expect(() => resizeCHW(new Float32Array(5), 1, 2, 2, 1, 1)).toThrow(RangeError);
    expect(() => resizeCHW(new Float32Array(4), 1, 2, 2, 0, 1)).toThrow(RangeError);
  });
});

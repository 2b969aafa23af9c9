// resizeCHW: exact values for area shrinking and half-pixel bilinear enlarging, agreement with the previous
// whole-image implementation (test/data/resize-oracle.ts), and the row-streaming RowResizer's bounds.
import { test, expect, describe } from 'bun:test';
import { resizeCHW, RowResizer } from '../../src/data/index.ts';
import { resizeCHWOracle } from './resize-oracle.ts';
import { rng } from './png-fixtures.ts';

describe('resizeCHW', () => {
  test('area 4×4 → 2×2 is the block mean, per channel', () => {
    const src = new Float32Array(2 * 16);
    for (let i = 0; i < 16; i++) {
      src[i] = i / 16;
      src[16 + i] = 1 - i / 16;
    }
    const out = resizeCHW(src, 2, 4, 4, 2, 2);
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length / 16;
    expect(Array.from(out.subarray(0, 4))).toEqual(
      [mean([0, 1, 4, 5]), mean([2, 3, 6, 7]), mean([8, 9, 12, 13]), mean([10, 11, 14, 15])].map(
        Math.fround,
      ),
    );
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
    for (const [h, w] of [
      [2, 3],
      [9, 11],
      [5, 3],
    ]) {
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

describe('row-streaming resampler', () => {
  test('equals the previous two-pass implementation within 1e-6: random sizes up and down, both modes', () => {
    const r = rng(11),
      size = () => 1 + Math.floor(r() * 70);
    let worst = 0,
      cases = 0;
    for (let t = 0; t < 300; t++) {
      const c = 1 + (t % 3),
        h = size(),
        w = size(),
        oh = t % 5 === 0 ? h : size(),
        ow = size();
      const src = Float32Array.from({ length: c * h * w }, () =>
        t % 7 === 0 ? r() * 50 - 25 : r(),
      );
      for (const mode of [undefined, 'area', 'bilinear'] as const) {
        const got = resizeCHW(src, c, h, w, oh, ow, mode),
          want = resizeCHWOracle(src, c, h, w, oh, ow, mode);
        expect(got.length).toBe(want.length);
        for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
        cases++;
      }
    }
    expect(cases).toBe(900);
    expect(worst).toBeLessThanOrEqual(1e-6);
  });

  test('large ratios both ways: 1 × 5000 rows and 3000 × 2 columns down to 28 × 28, 3 × 2 up to 64 × 90', () => {
    const r = rng(5);
    for (const [h, w, oh, ow] of [
      [5000, 1, 28, 28],
      [2, 3000, 28, 28],
      [3, 2, 64, 90],
      [700, 3, 28, 28],
    ]) {
      const src = Float32Array.from({ length: h * w }, () => r());
      const got = resizeCHW(src, 1, h, w, oh, ow),
        want = resizeCHWOracle(src, 1, h, w, oh, ow);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      expect(worst).toBeLessThanOrEqual(1e-6);
    }
  });

  test('RowResizer takes rows one at a time and never needs the whole source', () => {
    // 2,000,000 source rows of width 1: the old implementation allocated 2e6 × 28 float64 (448 MB) plus a
    // tap list per row; streaming keeps the 28 × 28 output, so this runs in well under a second.
    const h = 2_000_000,
      r = new RowResizer(1, h, 1, 28, 28, 'area'),
      row = new Float32Array(1);
    const t0 = performance.now();
    for (let y = 0; y < h; y++) {
      row[0] = y < h / 2 ? 0 : 1;
      r.push(row);
    }
    const out = r.finish();
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(out[0]).toBe(0);
    expect(out[27 * 28]).toBe(1);
    expect(out[13 * 28]).toBeCloseTo(0, 6);
    expect(out[14 * 28]).toBeCloseTo(1, 6);
  });

  test('RowResizer refuses too many rows, a short row and an early finish', () => {
    const r = new RowResizer(2, 2, 3, 1, 1);
    expect(() => r.push(new Float32Array(5))).toThrow(RangeError);
    r.push(new Float32Array(6));
    expect(() => r.finish()).toThrow(/got 1 of 2 rows/);
    r.push(new Float32Array(6));
    expect(() => r.push(new Float32Array(6))).toThrow(/more than 2 rows/);
    expect(Array.from(r.finish())).toEqual([0, 0]);
    expect(() => new RowResizer(1, 0, 3, 1, 1)).toThrow(RangeError);
  });
});

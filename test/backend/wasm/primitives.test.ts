// The WASM primitives against the reference kernels on seeded random inputs, beyond the parity table
// (test/backend/parity.test.ts): matmul in all transpose combinations, the convolution kernels over chunked
// batches, and (bit for bit) relu, add/sub/mul, compares, bias-add and max-pool2d with NaN, ±0 and tied windows.
import { describe, expect, test } from 'bun:test';
import { referenceBackend as ref } from '../../../src/backend/cpu/index.ts';
import type { Conv2dParams } from '../../../src/tensor/index.ts';
import { Tensor } from '../../../src/tensor/tensor.ts';
import { gemm } from '../../../src/backend/wasm/gemm.ts';
import { fastBackends } from '../../helpers/backends.ts';
import { expectClose } from '../../helpers/close.ts';
import { randomTensor } from '../../helpers/random.ts';

const r = (shape: number[]) => randomTensor(shape, -1, 1, 'f32');

const convCases: { x: number[]; w: number[]; p: Conv2dParams }[] = [
  { x: [2, 1, 28, 28], w: [6, 1, 5, 5], p: { stride: 1, padding: 2 } },
  { x: [3, 6, 14, 14], w: [16, 6, 5, 5], p: { stride: 1, padding: 0 } },
  { x: [1, 3, 9, 7], w: [4, 3, 3, 3], p: { stride: 2, padding: 1 } },
  { x: [2, 2, 5, 6], w: [3, 2, 2, 2], p: { stride: 3, padding: 2 } },
  // Batches that span several GEMM chunks with a short last one (the fast backend chunks by output pixels).
  { x: [9, 1, 28, 28], w: [6, 1, 5, 5], p: { stride: 1, padding: 0 } },
  { x: [37, 6, 12, 12], w: [16, 6, 5, 5], p: { stride: 1, padding: 0 } },
];

describe('the one-row GEMM kernel', () => {
  test('rows past the last full 4-row tile are bit-identical to the 4-row kernel on zero-padded rows', () => {
    // k past one k-chunk (256) too, so the accumulate path of both kernels runs.
    for (const [m, k, n] of [
      [1, 400, 120],
      [2, 120, 84],
      [3, 84, 10],
      [5, 7, 9],
      [7, 300, 17],
      [6, 1, 8],
    ]) {
      const mp = (m + 3) & ~3;
      const a = r([m, k]),
        c = r([k, n]);
      // The padded A has all-zero rows after m: every row goes through 4-row tiles.
      const padded = new Tensor([mp, k], new Float32Array(mp * k));
      (padded.data as Float32Array).set(a.data as Float32Array);
      const whole = gemm(
        padded.data as Float32Array,
        c.data as Float32Array,
        mp,
        n,
        k,
        false,
        false,
      );
      const rows = gemm(a.data as Float32Array, c.data as Float32Array, m, n, k, false, false);
      expect(Array.from(rows)).toEqual(Array.from(whole.subarray(0, m * n)));
    }
  });
});

for (const b of fastBackends) {
  describe(`${b.name} matches the reference`, () => {
    test('matmul, all transposes, odd and real sizes', () => {
      for (const [m, k, n] of [
        [1, 1, 1],
        [3, 5, 7],
        [17, 33, 9],
        [64, 784, 300],
        [5, 4, 8],
        [4, 0, 3],
        [33, 600, 20],
      ])
        for (const tA of [false, true])
          for (const tB of [false, true]) {
            const a = r(tA ? [k, m] : [m, k]);
            const c = r(tB ? [n, k] : [k, n]);
            expectClose(b.matmul(a, c, tA, tB), ref.matmul(a, c, tA, tB));
          }
    });
    test('conv2d forward and both backward kernels', () => {
      for (const { x: xs, w: ws, p } of convCases) {
        const x = r(xs),
          w = r(ws);
        const y = ref.conv2d(x, w, p);
        expectClose(b.conv2d(x, w, p), y);
        const dy = r([...y.shape]);
        expectClose(b.conv2dGradInput(dy, w, x.shape, p), ref.conv2dGradInput(dy, w, x.shape, p));
        expectClose(b.conv2dGradWeight(x, dy, w.shape, p), ref.conv2dGradWeight(x, dy, w.shape, p));
      }
    });
    test('relu, add/sub/mul, scalar compares, bias add and max pool are bit-identical to the reference', () => {
      const same = (got: Tensor, want: Tensor) => {
        expect(got.shape).toEqual(want.shape);
        expect(got.size).toBe(want.size);
        for (let i = 0; i < want.size; i++)
          if (!Object.is(got.data[i], want.data[i]))
            expect([i, got.data[i]]).toEqual([i, want.data[i]]);
      };
      for (const size of [[1], [3], [5, 7], [4, 6, 9, 9]]) {
        const a = r(size),
          c = r(size);
        // Special values: NaN, ±0, ±∞ and exact ties on the first elements.
        const special = [NaN, 0, -0, Infinity, -Infinity, 0.5, 0.5];
        for (let i = 0; i < Math.min(special.length, a.size); i++)
          (a.data as Float32Array)[i] = special[i];
        same(b.unary('relu', a), ref.unary('relu', a));
        for (const op of ['add', 'sub', 'mul'] as const) {
          same(b.binary(op, a, c), ref.binary(op, a, c));
          same(
            b.binary(op, a, new Tensor([], Float32Array.of(0.25))),
            ref.binary(op, a, new Tensor([], Float32Array.of(0.25))),
          );
        }
        for (const op of ['gt', 'ge', 'lt', 'le'] as const)
          same(
            b.compare(op, a, new Tensor([], Float32Array.of(0))),
            ref.compare(op, a, new Tensor([], Float32Array.of(0))),
          );
        if (size.length >= 2) {
          const bias = r([size[1]]);
          same(b.biasAdd(a, bias), ref.biasAdd(a, bias));
        }
        if (size.length === 4) {
          // Quantized values make tied windows common: the gradient must go to the same (first) maximum.
          const q = new Tensor(
            size,
            Float32Array.from(a.data, (v) => (Number.isNaN(v) ? v : Math.round(v * 2) / 2)),
          );
          for (const p of [
            { kernelSize: 2, stride: 2 },
            { kernelSize: 3, stride: 1 },
            { kernelSize: 2, stride: 3 },
          ]) {
            const y = ref.maxPool2d(q, p);
            same(b.maxPool2d(q, p), y);
            const dy = r([...y.shape]);
            same(b.maxPool2dGradInput(q, dy, p), ref.maxPool2dGradInput(q, dy, p));
          }
        }
      }
    });

    test('2×2 / stride-2 max pool (the vectorized kernel) is bit-identical for every row tail, odd sizes and special values', () => {
      const same = (got: Tensor, want: Tensor) => {
        expect(got.shape).toEqual(want.shape);
        for (let i = 0; i < want.size; i++)
          if (!Object.is(got.data[i], want.data[i]))
            expect([i, got.data[i]]).toEqual([i, want.data[i]]);
      };
      const special = [NaN, 0, -0, Infinity, -Infinity, 0.5, -0.5];
      // ow = 1..9 covers every ow mod 4 (full groups plus a short last group of 1, 2 or 3); odd h and w leave
      // an unpooled last row / column, which must get gradient 0.
      for (const [n, c, h, w] of [
        [1, 1, 2, 2],
        [2, 3, 3, 5],
        [1, 2, 6, 6],
        [3, 1, 7, 8],
        [1, 4, 4, 10],
        [2, 2, 9, 11],
        [1, 6, 28, 28],
        [2, 3, 5, 18],
      ]) {
        const x = r([n, c, h, w]);
        const xd = x.data as Float32Array;
        // A quarter of the inputs are special values or exact ties (quantized), spread over every lane position.
        for (let i = 0; i < xd.length; i++) {
          if (i % 4 === 1) xd[i] = special[(i >> 2) % special.length];
          else if (i % 4 === 2) xd[i] = Math.round(xd[i] * 2) / 2;
        }
        const p = { kernelSize: 2, stride: 2 };
        const y = ref.maxPool2d(x, p);
        same(b.maxPool2d(x, p), y);
        const dy = r([...y.shape]);
        const dd = dy.data as Float32Array;
        for (let i = 0; i < dd.length; i += 3) dd[i] = i % 2 ? -0 : NaN; // -0 must come back +0 (0 + -0), NaN as NaN
        same(b.maxPool2dGradInput(x, dy, p), ref.maxPool2dGradInput(x, dy, p));
      }
    });

    test('f64 operands take the reference path (exact)', () => {
      const a = randomTensor([3, 4], -1, 1, 'f64'),
        c = randomTensor([4, 2], -1, 1, 'f64');
      expect(Array.from(b.matmul(a, c).data)).toEqual(Array.from(ref.matmul(a, c).data));
    });
  });
}

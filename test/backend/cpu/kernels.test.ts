// Known-answer tests of every backend primitive: hand-computed values, numerics at the extremes and the
// error messages for bad shapes. One test body runs against every backend in test/helpers/backends.ts.
import { describe, expect, test } from 'bun:test';
import { tensor, type Tensor } from '../../../src/tensor/tensor.ts';
import { backends } from '../../helpers/backends.ts';

const arr = (t: Tensor) => Array.from(t.data);

for (const b of backends) {
  describe(`kernels on ${b.name}`, () => {
    test('unary ops', () => {
      const x = tensor([-2, -0.5, 0, 0.5, 4]);
      expect(arr(b.unary('neg', x))).toEqual([2, 0.5, -0, -0.5, -4]);
      expect(arr(b.unary('abs', x))).toEqual([2, 0.5, 0, 0.5, 4]);
      expect(arr(b.unary('sign', x))).toEqual([-1, -1, 0, 1, 1]);
      expect(arr(b.unary('relu', x))).toEqual([0, 0, 0, 0.5, 4]);
      expect(arr(b.unary('square', x))).toEqual([4, 0.25, 0, 0.25, 16]);
      expect(arr(b.unary('sqrt', tensor([0, 4, 9])))).toEqual([0, 2, 3]);
      expect(b.unary('exp', tensor([0])).item()).toBe(1);
      expect(b.unary('log', tensor([1])).item()).toBe(0);
      expect(b.unary('tanh', tensor([0])).item()).toBe(0);
    });
    test('binary ops broadcast with NumPy rules', () => {
      const a = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
      expect(arr(b.binary('add', a, tensor([10, 20, 30])))).toEqual([11, 22, 33, 14, 25, 36]);
      expect(arr(b.binary('sub', a, tensor([1, 2], [2, 1])))).toEqual([0, 1, 2, 2, 3, 4]);
      expect(arr(b.binary('mul', tensor([2], []), a))).toEqual([2, 4, 6, 8, 10, 12]);
      expect(arr(b.binary('div', a, tensor([2], [])))).toEqual([0.5, 1, 1.5, 2, 2.5, 3]);
      expect(arr(b.binary('maximum', a, tensor([3], [])))).toEqual([3, 3, 3, 4, 5, 6]);
      expect(arr(b.binary('minimum', a, tensor([3], [])))).toEqual([1, 2, 3, 3, 3, 3]);
      expect(b.binary('add', tensor([1, 2], [2, 1]), tensor([1, 2, 3], [1, 3])).shape).toEqual([
        2, 3,
      ]);
      expect(() => b.binary('add', tensor([1, 2]), tensor([1, 2, 3]))).toThrow(/incompatible/);
    });
    test('comparisons give 1/0 and clamp bounds values', () => {
      const x = tensor([1, 2, 3]);
      expect(arr(b.compare('gt', x, tensor([2], [])))).toEqual([0, 0, 1]);
      expect(arr(b.compare('ge', x, tensor([2], [])))).toEqual([0, 1, 1]);
      expect(arr(b.compare('lt', x, tensor([2], [])))).toEqual([1, 0, 0]);
      expect(arr(b.compare('le', x, tensor([2], [])))).toEqual([1, 1, 0]);
      expect(arr(b.compare('eq', x, tensor([2], [])))).toEqual([0, 1, 0]);
      expect(arr(b.clamp(tensor([-1, 0.5, 2]), 0, 1))).toEqual([0, 0.5, 1]);
      expect(() => b.clamp(x, 1, 0)).toThrow(/exceeds/);
    });
    test('f64 operands give an f64 result', () => {
      expect(b.binary('add', tensor([1], [1], 'f64'), tensor([1])).dtype).toBe('f64');
    });
    test('reductions', () => {
      const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
      expect(b.sum(x).item()).toBe(21);
      expect(arr(b.sum(x, [0]))).toEqual([5, 7, 9]);
      expect(b.sum(x, [1], true).shape).toEqual([2, 1]);
      expect(arr(b.sum(x, [-1]))).toEqual([6, 15]);
      expect(arr(b.max(x, 1))).toEqual([3, 6]);
      expect(arr(b.max(x, 0, true))).toEqual([4, 5, 6]);
      expect(arr(b.argmax(tensor([0, 5, 5, 1, 1, 1], [2, 3]), 1))).toEqual([1, 0]);
      expect(arr(b.broadcastTo(tensor([1, 2], [2, 1]), [2, 2]))).toEqual([1, 1, 2, 2]);
      expect(arr(b.oneHot(tensor([2, 0]), 3))).toEqual([0, 0, 1, 1, 0, 0]);
      expect(() => b.oneHot(tensor([3]), 3)).toThrow(/outside/);
      expect(() => b.sum(x, [2])).toThrow(/out of range/);
    });
    test('sum over every subset of axes matches a naive loop', () => {
      const shape = [2, 3, 4, 5];
      const x = tensor(
        Array.from({ length: 120 }, (_, i) => ((i * 37) % 11) - 5),
        shape,
      );
      for (let mask = 0; mask < 16; mask++) {
        const axes = [0, 1, 2, 3].filter((a) => mask & (1 << a));
        const got = b.sum(x, axes, true);
        const want = new Float64Array(got.size);
        const keep = shape.map((d, i) => (axes.includes(i) ? 1 : d));
        for (let i = 0; i < 120; i++) {
          const idx = [
            Math.floor(i / 60),
            Math.floor(i / 20) % 3,
            Math.floor(i / 5) % 4,
            i % 5,
          ].map((v, d) => (axes.includes(d) ? 0 : v));
          want[((idx[0] * keep[1] + idx[1]) * keep[2] + idx[2]) * keep[3] + idx[3]] += x.data[i];
        }
        expect(Array.from(got.data)).toEqual(Array.from(want));
      }
    });
    test('matmul in all four transpose combinations', () => {
      const a = tensor([1, 2, 3, 4, 5, 6], [2, 3]); // [[1,2,3],[4,5,6]]
      const c = tensor([1, 0, 0, 1, 1, 1], [3, 2]); // [[1,0],[0,1],[1,1]]
      expect(arr(b.matmul(a, c))).toEqual([4, 5, 10, 11]);
      expect(arr(b.matmul(c, a, true, true))).toEqual([4, 10, 5, 11]);
      expect(arr(b.matmul(a, a, false, true))).toEqual([14, 32, 32, 77]);
      expect(arr(b.matmul(a, a, true, false))).toEqual([17, 22, 27, 22, 29, 36, 27, 36, 45]);
      expect(() => b.matmul(a, a)).toThrow(/inner dimensions/);
    });
    test('biasAdd adds along axis 1 for dense and NCHW activations', () => {
      expect(arr(b.biasAdd(tensor([0, 0, 0, 0], [2, 2]), tensor([1, 2])))).toEqual([1, 2, 1, 2]);
      expect(arr(b.biasAdd(tensor([0, 0, 0, 0], [1, 2, 2, 1]), tensor([1, 2])))).toEqual([
        1, 1, 2, 2,
      ]);
      expect(() => b.biasAdd(tensor([0, 0], [1, 2]), tensor([1, 2, 3]))).toThrow(/does not match/);
    });
    test('conv2d with stride and padding against a hand-computed example', () => {
      // 1×1×3×3 input 1..9, one 2×2 kernel of ones, padding 1, stride 2 → sums of the 4 corner windows.
      const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
      const w = tensor([1, 1, 1, 1], [1, 1, 2, 2]);
      const y = b.conv2d(x, w, { stride: 2, padding: 1 });
      expect(y.shape).toEqual([1, 1, 2, 2]);
      expect(arr(y)).toEqual([1, 2 + 3, 4 + 7, 5 + 6 + 8 + 9]);
      // Two output channels, two input channels, no padding: cross-correlation, not convolution.
      const x2 = tensor([1, 2, 3, 4, 10, 20, 30, 40], [1, 2, 2, 2]);
      const w2 = tensor([1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0], [2, 2, 2, 2]);
      expect(arr(b.conv2d(x2, w2, { stride: 1, padding: 0 }))).toEqual([1 + 40, 2 + 30]);
      expect(() => b.conv2d(x2, tensor([1], [1, 1, 1, 1]), { stride: 1, padding: 0 })).toThrow(
        /input channels/,
      );
    });
    test('conv2d backward kernels match their definitions on a tiny case', () => {
      const x = tensor([1, 2, 3, 4], [1, 1, 2, 2]);
      const w = tensor([1, 2, 3, 4], [1, 1, 2, 2]);
      const dy = tensor([1], [1, 1, 1, 1]);
      expect(arr(b.conv2dGradInput(dy, w, x.shape, { stride: 1, padding: 0 }))).toEqual([
        1, 2, 3, 4,
      ]);
      expect(arr(b.conv2dGradWeight(x, dy, w.shape, { stride: 1, padding: 0 }))).toEqual([
        1, 2, 3, 4,
      ]);
    });
    test('pooling forward and backward', () => {
      const x = tensor([1, 5, 2, 0, 3, 4, 6, 1, 7, 8, 9, 9, 1, 1, 9, 2], [1, 1, 4, 4]);
      const p = { kernelSize: 2, stride: 2 };
      expect(arr(b.maxPool2d(x, p))).toEqual([5, 6, 8, 9]);
      expect(arr(b.avgPool2d(x, p))).toEqual([13 / 4, 9 / 4, 17 / 4, 29 / 4]);
      const g = b.maxPool2dGradInput(x, tensor([1, 1, 1, 1], [1, 1, 2, 2]), p);
      expect(arr(g)).toEqual([0, 1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
      expect(
        arr(b.avgPool2dGradInput(tensor([4, 4, 4, 4], [1, 1, 2, 2]), x.shape, p)).every(
          (v) => v === 1,
        ),
      ).toBe(true);
    });
    test('softmax, log-softmax and cross-entropy are stable at extreme logits', () => {
      const z = tensor([1000, 0, -1000, 0, 0, 0], [2, 3]);
      const s = arr(b.softmax(z));
      expect(s[0]).toBe(1);
      expect(s[1]).toBe(0);
      expect(s[3]).toBeCloseTo(1 / 3, 6);
      const ls = arr(b.logSoftmax(z));
      expect(ls[1]).toBeCloseTo(-1000, 3);
      expect(Number.isFinite(ls[2])).toBe(true);
      const ce = arr(b.crossEntropy(z, tensor([0, 2])));
      expect(ce[0]).toBe(0);
      expect(ce[1]).toBeCloseTo(Math.log(3), 6);
      expect(arr(b.crossEntropy(z, tensor([1, 0])))[0]).toBeCloseTo(1000, 3);
      expect(() => b.crossEntropy(z, tensor([3, 0]))).toThrow(/outside/);
    });
    test('hashGather expands real weights with signs; hashScatter is its transpose', () => {
      const table = {
        rows: 2,
        cols: 2,
        buckets: 2,
        bucket: Uint32Array.from([0, 1, 1, 0]),
        sign: Int8Array.from([1, -1, 1, 1]),
      };
      expect(arr(b.hashGather(tensor([3, 5]), table))).toEqual([3, -5, 5, 3]);
      expect(arr(b.hashScatter(tensor([1, 2, 3, 4], [2, 2]), table))).toEqual([1 + 4, -2 + 3]);
      expect(() => b.hashGather(tensor([1, 2, 3]), table)).toThrow(/2 real weights expected/);
    });
    test('no kernel writes its inputs', () => {
      const x = tensor([3, -1, 2, 0], [1, 1, 2, 2]);
      const before = arr(x);
      b.unary('relu', x);
      b.clamp(x, 0, 1);
      b.softmax(x.reshape([2, 2]));
      b.maxPool2d(x, { kernelSize: 2, stride: 1 });
      b.conv2d(x, tensor([1], [1, 1, 1, 1]), { stride: 1, padding: 1 });
      expect(arr(x)).toEqual(before);
    });
  });
}

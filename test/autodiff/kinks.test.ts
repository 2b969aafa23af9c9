// Pins the subgradient chosen at every kink (the NOTE: comments in src/autodiff/op-table.ts) with exact values.
import { describe, expect, test } from 'bun:test';
import * as ops from '../../src/autodiff/ops.ts';
import { gradients } from '../../src/autodiff/index.ts';
import { tensor, type Tensor } from '../../src/tensor/tensor.ts';

const gradOf = (f: (x: Tensor) => Tensor, x: Tensor) =>
  Array.from(gradients(() => ops.sum(f(x)), [x]).grads[0].data);

describe('subgradients at kinks', () => {
  test('relu at 0 has gradient 0 (flows only where x > 0)', () => {
    expect(gradOf(ops.relu, tensor([-1, 0, 1]))).toEqual([0, 0, 1]);
  });
  test('abs at 0 has gradient sign(0) = 0', () => {
    expect(gradOf(ops.abs, tensor([-2, 0, 3]))).toEqual([-1, 0, 1]);
  });
  test('clamp passes the gradient at both bounds (inclusive) and blocks it outside', () => {
    expect(gradOf((x) => ops.clamp(x, 0, 1), tensor([-0.5, 0, 0.5, 1, 1.5]))).toEqual([
      0, 1, 1, 1, 0,
    ]);
  });
  test('max along an axis sends the whole gradient to the first maximum on ties', () => {
    expect(gradOf((x) => ops.max(x, 1), tensor([3, 1, 3, 2, 2, 2], [2, 3]))).toEqual([
      1, 0, 0, 1, 0, 0,
    ]);
  });
  test('maximum / minimum give ties to the first operand', () => {
    const a = tensor([1, 2, 3]);
    const b = tensor([1, 5, 0]);
    const g = gradients(() => ops.sum(ops.maximum(a, b)), [a, b]).grads.map((t) =>
      Array.from(t.data),
    );
    expect(g).toEqual([
      [1, 0, 1],
      [0, 1, 0],
    ]);
    const h = gradients(() => ops.sum(ops.minimum(a, b)), [a, b]).grads.map((t) =>
      Array.from(t.data),
    );
    expect(h).toEqual([
      [1, 1, 0],
      [0, 0, 1],
    ]);
  });
  test('max-pool2d routes the gradient to the first (row-major) maximum of a tied window', () => {
    const x = tensor([7, 7, 7, 7], [1, 1, 2, 2]);
    expect(gradOf((t) => ops.maxPool2d(t, { kernelSize: 2, stride: 2 }), x)).toEqual([1, 0, 0, 0]);
  });
  test('sign has zero gradient everywhere, including 0', () => {
    expect(gradOf(ops.sign, tensor([-1, 0, 2]))).toEqual([0, 0, 0]);
  });
  test('argmax ties go to the lowest index (the prediction rule)', () => {
    expect(Array.from(ops.argmax(tensor([1, 3, 3, 0], [1, 4]), 1).data)).toEqual([1]);
  });
});

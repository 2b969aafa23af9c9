// The Tensor value: shape validation, dtypes, reshape and the constructors.
import { describe, expect, test } from 'bun:test';
import { clone, full, scalar, sizeOf, Tensor, tensor, zeros } from '../../src/tensor/tensor.ts';

describe('Tensor', () => {
  test('shape and data length must agree', () => {
    expect(() => new Tensor([2, 3], new Float32Array(5))).toThrow(
      'shape [2, 3] needs 6 values, got 5',
    );
    expect(() => new Tensor([2, -1], new Float32Array(0))).toThrow(/invalid dimension -1/);
    expect(() => new Tensor([1.5], new Float32Array(1))).toThrow(/invalid dimension 1.5/);
  });
  test('dtype follows the storage; f64 is kept for gradient checks', () => {
    expect(tensor([1, 2]).dtype).toBe('f32');
    expect(tensor([1, 2], [2], 'f64').dtype).toBe('f64');
    expect(clone(tensor([0.1]), 'f64').data[0]).toBe(Math.fround(0.1));
  });
  test('reshape shares storage and checks sizes', () => {
    const t = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const r = t.reshape([3, 2]);
    expect(r.data).toBe(t.data);
    expect(() => t.reshape([4, 2])).toThrow(/needs 8 values/);
  });
  test('constructors', () => {
    expect(zeros([2, 2]).data).toEqual(new Float32Array(4));
    expect(Array.from(full([3], 7).data)).toEqual([7, 7, 7]);
    expect(scalar(3).shape).toEqual([]);
    expect(scalar(3).item()).toBe(3);
    expect(() => tensor([1, 2]).item()).toThrow(/2 elements/);
    expect(sizeOf([])).toBe(1);
    expect(Object.isFrozen(tensor([1]).shape)).toBe(true);
  });
});

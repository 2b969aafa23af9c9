// The public gradient API: grad, valueAndGrad, gradients, noGrad, and their error messages.
import { describe, expect, test } from 'bun:test';
import * as ops from '../../src/autodiff/ops.ts';
import { grad, gradients, noGrad, valueAndGrad } from '../../src/autodiff/index.ts';
import { tensor } from '../../src/tensor/tensor.ts';

describe('gradient API', () => {
  test('grad returns one gradient per argument', () => {
    const f = (x: ReturnType<typeof tensor>, y: ReturnType<typeof tensor>) =>
      ops.sum(ops.mul(x, y));
    const [gx, gy] = grad(f)(tensor([1, 2]), tensor([3, 4]));
    expect(Array.from(gx.data)).toEqual([3, 4]);
    expect(Array.from(gy.data)).toEqual([1, 2]);
  });
  test('valueAndGrad returns the value too', () => {
    const { value, grads } = valueAndGrad((x) => ops.sum(ops.square(x)))(tensor([3]));
    expect(value.item()).toBe(9);
    expect(grads[0].item()).toBe(6);
  });
  test('a tensor used twice accumulates both paths', () => {
    const x = tensor([2]);
    const { grads } = gradients(() => ops.sum(ops.mul(x, x)), [x]);
    expect(grads[0].item()).toBe(4);
  });
  test('gradient with respect to an unused tensor is zero', () => {
    const x = tensor([2]);
    const y = tensor([5, 6]);
    const { grads } = gradients(() => ops.sum(ops.square(x)), [x, y]);
    expect(Array.from(grads[1].data)).toEqual([0, 0]);
  });
  test('noGrad records nothing: the result does not depend on the tracked input', () => {
    const x = tensor([2]);
    const { grads } = gradients(
      () =>
        ops.add(
          ops.sum(x),
          noGrad(() => ops.sum(ops.square(x))),
        ),
      [x],
    );
    expect(grads[0].item()).toBe(1);
  });
  test('input tensors are never written', () => {
    const x = tensor([1, -2, 3]);
    gradients(() => ops.sum(ops.relu(x)), [x]);
    expect(Array.from(x.data)).toEqual([1, -2, 3]);
  });
  test('a non-scalar function is refused with a clear message', () => {
    expect(() => gradients(() => ops.relu(tensor([1, 2])), [])).toThrow(/must return a scalar/);
  });
});

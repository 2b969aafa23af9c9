// Optimizer update rules against hand-computed steps, and exact state save/restore.
import { describe, expect, test } from 'bun:test';
import { adam, sgd } from '../../src/nn/optimizers.ts';
import { tensor } from '../../src/tensor/tensor.ts';

describe('optimizers', () => {
  test('SGD with momentum and weight decay follows v ← μv + g + λp; p ← p − lr·v', () => {
    const p = new Map([['w', tensor([1])]]);
    const opt = sgd({ lr: 0.1, momentum: 0.5, weightDecay: 0.1 });
    opt.step(p, new Map([['w', tensor([2])]]), 0.1); // v = 2 + 0.1 = 2.1; w = 1 − 0.21 = 0.79
    expect(p.get('w')!.item()).toBeCloseTo(0.79, 6);
    opt.step(p, new Map([['w', tensor([2])]]), 0.1); // v = 1.05 + 2 + 0.079 = 3.129; w = 0.79 − 0.3129
    expect(p.get('w')!.item()).toBeCloseTo(0.4771, 5);
  });
  test('Adam first step moves each weight by lr·sign(g) (bias correction)', () => {
    const p = new Map([['w', tensor([1, 1])]]);
    adam({ lr: 0.01 }).step(p, new Map([['w', tensor([5, -0.001])]]), 0.01);
    expect(p.get('w')!.data[0]).toBeCloseTo(0.99, 6);
    expect(p.get('w')!.data[1]).toBeCloseTo(1.01, 4);
  });
  test('restoring the state continues exactly like an uninterrupted run', () => {
    const g = new Map([['w', tensor([0.3, -0.7])]]);
    const run = (split: boolean) => {
      const p = new Map([['w', tensor([1, 2])]]);
      let opt = adam();
      for (let i = 0; i < 5; i++) {
        if (split && i === 2) {
          const saved = new Map([...opt.state()].map(([k, t]) => [k, tensor(t.data, t.shape)]));
          opt = adam();
          opt.loadState(saved);
        }
        opt.step(p, g, 0.01);
      }
      return Array.from(p.get('w')!.data);
    };
    expect(run(true)).toEqual(run(false));
  });
  test('a missing gradient is an error naming the parameter', () => {
    expect(() => sgd().step(new Map([['w', tensor([1])]]), new Map(), 0.1)).toThrow(/'w'/);
  });
});

test('a step replaces parameter tensors and never writes the old ones (tensors are values)', () => {
  for (const opt of [sgd(), adam()]) {
    const old = tensor([1, 2]);
    const p = new Map([['w', old]]);
    opt.step(p, new Map([['w', tensor([1, 1])]]), 0.1);
    expect(Array.from(old.data)).toEqual([1, 2]);
    expect(p.get('w')).not.toBe(old);
  }
});

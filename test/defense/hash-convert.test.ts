// Dense → hashed conversion: the projection is the least-squares optimum, and a converted model keeps the
// dense model's predictions when compression is mild.
import { describe, expect, test } from 'bun:test';
import { hashTable } from '../../src/hash/hashed-nets.ts';
import { convertToHashed, projectToBuckets } from '../../src/defense/hash-convert.ts';
import { syntheticDataset } from '../../src/data/synthetic.ts';
import { mlp } from '../../src/nn/architectures.ts';
import { accuracy } from '../../src/nn/evaluate.ts';
import { initParams } from '../../src/nn/init.ts';
import { adam } from '../../src/nn/optimizers.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { trainEpoch } from '../../src/nn/train.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { randomTensor } from '../helpers/random.ts';

describe('hash conversion', () => {
  test('a matrix that is exactly hashed is recovered exactly', () => {
    const t = hashTable(6, 10, 5, 9);
    const wTrue = randomTensor([9], -1, 1, 'f32');
    const V = new Float32Array(60);
    for (let e = 0; e < 60; e++) V[e] = t.sign[e] * wTrue.data[t.bucket[e]];
    const w = projectToBuckets(new Tensor([6, 10], V), 6, 10, 5, 9);
    w.data.forEach((v, k) => expect(v).toBeCloseTo(wTrue.data[k], 6));
  });
  test('the projection minimizes the squared residual (zero gradient, any move increases it)', () => {
    const V = randomTensor([5, 8], -1, 1, 'f64');
    const t = hashTable(5, 8, 9, 6);
    const w = projectToBuckets(V, 5, 8, 9, 6);
    const residual = (ws: ArrayLike<number>) => {
      let r = 0;
      for (let e = 0; e < 40; e++) r += (V.data[e] - t.sign[e] * ws[t.bucket[e]]) ** 2;
      return r;
    };
    const best = residual(w.data);
    for (let k = 0; k < 6; k++)
      for (const d of [-1e-3, 1e-3]) {
        const moved = Float64Array.from(w.data);
        moved[k] += d;
        expect(residual(moved)).toBeGreaterThan(best);
      }
  });
  test('a converted model recovers the dense accuracy with brief fine-tuning', async () => {
    const shape: [number, number, number] = [1, 8, 8];
    const layers = mlp(shape, 4, [32]);
    const model = new Sequential(shape, layers, initParams(layers, 2));
    const train = syntheticDataset({ count: 400, shape, classes: 4, seed: 3, split: 'train' });
    const test_ = syntheticDataset({ count: 200, shape, classes: 4, seed: 3, split: 'test' });
    const opt = adam({ lr: 3e-3 });
    for (let e = 0; e < 5; e++)
      await trainEpoch(
        model,
        opt,
        train,
        { epochs: 5, batchSize: 32, seed: 2, schedule: 'cosine' },
        e,
      );
    const dense = accuracy(model, test_).accuracy;
    // NOTE: projection alone loses much: random collisions average unrelated weights (even at c = 1/2,
    // most entries share a bucket), which is why convert offers fine-tuning.
    const c = convertToHashed(layers, model.params, [0.5, 0.5], [1, 2]);
    const hashed = new Sequential(shape, c.layers, c.params);
    expect(c.layers[1].type).toBe('hashed-dense');
    expect(hashed.parameterCount()).toBe((32 * 64) / 2 + 32 + (4 * 32) / 2 + 4);
    const ft = adam({ lr: 3e-3 });
    for (let e = 0; e < 2; e++)
      await trainEpoch(
        hashed,
        ft,
        train,
        { epochs: 2, batchSize: 32, seed: 2, schedule: 'cosine' },
        e,
      );
    expect(accuracy(hashed, test_).accuracy).toBeGreaterThan(dense - 0.05);
    expect(() => convertToHashed(c.layers, c.params, [0.5, 0.5], [1, 2])).toThrow(/already hashed/);
  });
});

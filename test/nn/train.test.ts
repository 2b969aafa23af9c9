// Training end to end on seeded synthetic data: models learn, runs are reproducible, shapes are checked.
import { describe, expect, test } from 'bun:test';
import { syntheticDataset } from '../../src/data/synthetic.ts';
import { mlp } from '../../src/nn/architectures.ts';
import { accuracy } from '../../src/nn/evaluate.ts';
import { initParams } from '../../src/nn/init.ts';
import type { LayerSpec } from '../../src/nn/layer-spec.ts';
import { adam, sgd, type Optimizer } from '../../src/nn/optimizers.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { learningRate, trainEpoch } from '../../src/nn/train.ts';
import { Tensor } from '../../src/tensor/tensor.ts';

const shape: [number, number, number] = [1, 8, 8];
const train = syntheticDataset({ count: 400, shape, classes: 4, seed: 3, split: 'train' });
const test_ = syntheticDataset({ count: 200, shape, classes: 4, seed: 3, split: 'test' });

async function fit(
  layers: LayerSpec[],
  opt: Optimizer,
  seed: number,
  epochs = 3,
): Promise<Sequential> {
  const model = new Sequential(shape, layers, initParams(layers, seed));
  for (let e = 0; e < epochs; e++)
    await trainEpoch(model, opt, train, { epochs, batchSize: 32, seed, schedule: 'cosine' }, e);
  return model;
}

const smallConv: LayerSpec[] = [
  {
    type: 'conv2d',
    inChannels: 1,
    outChannels: 4,
    kernelSize: 3,
    stride: 1,
    padding: 1,
    weight: 'c.weight',
    bias: 'c.bias',
  },
  { type: 'relu' },
  { type: 'maxpool2d', kernelSize: 2, stride: 2 },
  { type: 'flatten' },
  { type: 'dense', inDim: 64, outDim: 4, weight: 'd.weight', bias: 'd.bias' },
];

describe('training', () => {
  test('an MLP learns the synthetic task with Adam', async () => {
    const model = await fit(mlp(shape, 4, [32]), adam({ lr: 3e-3 }), 1, 5);
    expect(accuracy(model, test_).accuracy).toBeGreaterThan(0.9);
  });
  test('a conv net learns it with SGD + momentum', async () => {
    const model = await fit(smallConv, sgd({ lr: 0.05 }), 1);
    expect(accuracy(model, test_).accuracy).toBeGreaterThan(0.9);
  });
  test('the loss goes down epoch over epoch', async () => {
    const layers = mlp(shape, 4, [16]);
    const model = new Sequential(shape, layers, initParams(layers, 5));
    const opt = adam();
    const opts = { epochs: 3, batchSize: 32, seed: 5, schedule: 'constant' as const };
    const losses = [];
    for (let e = 0; e < 3; e++) losses.push((await trainEpoch(model, opt, train, opts, e)).loss);
    expect(losses[1]).toBeLessThan(losses[0]);
    expect(losses[2]).toBeLessThan(losses[1]);
  });
  test('the same seed gives bit-identical weights; another seed does not', async () => {
    const bytes = (m: Sequential) =>
      m.parameterNames().flatMap((n) => Array.from(new Uint8Array(m.params.get(n)!.data.buffer)));
    const a = await fit(mlp(shape, 4, [16]), adam(), 7, 2);
    const b = await fit(mlp(shape, 4, [16]), adam(), 7, 2);
    const c = await fit(mlp(shape, 4, [16]), adam(), 8, 2);
    expect(bytes(a)).toEqual(bytes(b));
    expect(bytes(a)).not.toEqual(bytes(c));
  });
  test('cosine schedule runs from lr0 to 0', () => {
    expect(learningRate(0.1, 'cosine', 0, 100)).toBeCloseTo(0.1, 12);
    expect(learningRate(0.1, 'cosine', 50, 100)).toBeCloseTo(0.05, 12);
    expect(learningRate(0.1, 'cosine', 100, 100)).toBeCloseTo(0, 12);
    expect(learningRate(0.1, 'constant', 77, 100)).toBe(0.1);
  });
});

describe('Sequential checks its inputs', () => {
  const layers = mlp(shape, 4, [16]);
  test('wrong input shape', () => {
    const m = new Sequential(shape, layers, initParams(layers, 1));
    expect(() => m.forward(new Tensor([2, 1, 8, 9], new Float32Array(144)))).toThrow(
      /input shape \[2, 1, 8, 9\] does not match \[2, 1, 8, 8\]/,
    );
  });
  test('missing or misshapen parameter tensors', () => {
    const params = initParams(layers, 1);
    params.delete('fc1.bias');
    expect(() => new Sequential(shape, layers, params)).toThrow(/missing tensor 'fc1.bias'/);
    const p2 = initParams(layers, 1);
    p2.set('fc1.weight', new Tensor([16, 63], new Float32Array(16 * 63)));
    expect(() => new Sequential(shape, layers, p2)).toThrow(
      /'fc1.weight' has shape \[16, 63\], expected \[16, 64\]/,
    );
  });
  test('layers that do not chain', () => {
    const bad: LayerSpec[] = [
      { type: 'flatten' },
      { type: 'dense', inDim: 10, outDim: 2, weight: 'w', bias: 'b' },
    ];
    expect(() => new Sequential(shape, bad, initParams(bad, 1))).toThrow(
      /layers\[1\] \(dense\): expects \[10\]/,
    );
  });
  test('initialization is seeded and He-scaled', () => {
    const a = initParams(layers, 1).get('fc1.weight')!;
    const b = initParams(layers, 1).get('fc1.weight')!;
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    const bound = Math.sqrt(6 / 64);
    expect(Math.max(...Array.from(a.data).map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Array.from(initParams(layers, 1).get('fc1.bias')!.data).every((v) => v === 0)).toBe(
      true,
    );
  });
});

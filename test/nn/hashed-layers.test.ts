// HashedNets layers: forward equals a dense layer with the virtual weight of docs/design.md §3, gradients
// pass finite differences, only K real weights are stored, the virtual weight is built once for inference.
import { describe, expect, test } from 'bun:test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gradients, noGrad } from '../../src/autodiff/grad.ts';
import * as ops from '../../src/autodiff/ops.ts';
import { hashBucket, hashSign } from '../../src/hash/hashed-nets.ts';
import { syntheticDataset } from '../../src/data/synthetic.ts';
import { loadModelDir, saveModelDir } from '../../src/io/model-dir.ts';
import { mlp } from '../../src/nn/architectures.ts';
import { accuracy } from '../../src/nn/evaluate.ts';
import { derivedHashSeeds, hashLayers, parseCompressions } from '../../src/nn/hashed-layers.ts';
import { initParams } from '../../src/nn/init.ts';
import type { LayerSpec } from '../../src/nn/layer-spec.ts';
import { virtualWeight } from '../../src/nn/layers.ts';
import { adam } from '../../src/nn/optimizers.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { trainEpoch } from '../../src/nn/train.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { randomTensor } from '../helpers/random.ts';

const tiny: LayerSpec[] = [
  {
    type: 'hashed-conv2d',
    inChannels: 2,
    outChannels: 3,
    kernelSize: 3,
    stride: 1,
    padding: 1,
    weight: 'c.weight',
    bias: 'c.bias',
    hash: { buckets: 7, seed: 11 },
  },
  { type: 'relu' },
  { type: 'flatten' },
  {
    type: 'hashed-dense',
    inDim: 24,
    outDim: 4,
    weight: 'd.weight',
    bias: 'd.bias',
    hash: { buckets: 20, seed: 12 },
  },
];

/** The virtual matrix written straight from the formula, independent of the table code. */
function formulaVirtual(
  w: Tensor,
  rows: number,
  cols: number,
  seed: number,
  buckets: number,
): Float64Array {
  const v = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++)
      v[i * cols + j] = hashSign(i, j, seed) * w.data[hashBucket(i, j, seed, buckets)];
  return v;
}

function f64Params(layers: LayerSpec[]): Map<string, Tensor> {
  return new Map(
    [...initParams(layers, 3)].map(([k, t]) => [k, randomTensor([...t.shape], -0.5, 0.5, 'f64')]),
  );
}

describe('hashed layers', () => {
  test('forward equals the dense computation with V[i][j] = sign(i,j)·w[bucket(i,j)]', () => {
    const params = f64Params(tiny);
    const model = new Sequential([2, 4, 2], tiny, params);
    const x = randomTensor([2, 2, 4, 2], 0, 1, 'f64');
    const convV = new Tensor([3, 2, 3, 3], formulaVirtual(params.get('c.weight')!, 3, 18, 11, 7));
    const denseV = new Tensor([4, 24], formulaVirtual(params.get('d.weight')!, 4, 24, 12, 20));
    const ref = noGrad(() => {
      const h = ops.flatten(
        ops.relu(
          ops.biasAdd(ops.conv2d(x, convV, { stride: 1, padding: 1 }), params.get('c.bias')!),
        ),
      );
      return ops.biasAdd(ops.matmul(h, denseV, false, true), params.get('d.bias')!);
    });
    const got = noGrad(() => model.forward(x));
    got.data.forEach((v, i) => expect(Math.abs(v - ref.data[i])).toBeLessThan(1e-12));
  });

  test('gradients w.r.t. the input and the real weights pass central differences (float64)', () => {
    const params = f64Params(tiny);
    const model = new Sequential([2, 4, 2], tiny, params);
    const x = randomTensor([2, 2, 4, 2], 0, 1, 'f64');
    const y = new Tensor([2], new Float64Array([1, 3]));
    const names = model.parameterNames();
    const wrt = [x, ...names.map((n) => params.get(n)!)];
    const loss = (xs: Tensor, ps: Map<string, Tensor>) =>
      ops.mean(ops.crossEntropy(model.forward(xs, ps), y));
    const { grads } = gradients(() => loss(x, params), wrt);
    const h = 1e-6;
    // Perturbed copies are NEW tensors: tensors are values, and the cached virtual weight is keyed on identity.
    const perturbed = (k: number, i: number, d: number) => {
      const t = new Tensor(wrt[k].shape, Float64Array.from(wrt[k].data));
      t.data[i] += d;
      return k === 0 ? loss(t, params) : loss(x, new Map(params).set(names[k - 1], t));
    };
    wrt.forEach((t, k) => {
      for (let i = 0; i < t.size; i++) {
        const numeric =
          (noGrad(() => perturbed(k, i, h)).item() - noGrad(() => perturbed(k, i, -h)).item()) /
          (2 * h);
        expect(Math.abs(grads[k].data[i] - numeric)).toBeLessThan(
          1e-6 * Math.max(1, Math.abs(numeric)),
        );
      }
    });
  });

  test('the virtual weight is materialized once per weight tensor for inference and rebuilt after an update', () => {
    const spec = tiny[3] as Extract<LayerSpec, { type: 'hashed-dense' }>;
    const params = initParams(tiny, 1);
    const w = params.get('d.weight')!;
    const v1 = virtualWeight(spec, w);
    expect(virtualWeight(spec, w)).toBe(v1);
    adam().step(
      params,
      new Map(
        [...params].map(([k, t]) => [k, new Tensor(t.shape, new Float32Array(t.size).fill(1))]),
      ),
      0.1,
    );
    expect(virtualWeight(spec, params.get('d.weight')!)).not.toBe(v1);
  });

  test('the model file stores only the K real weights, biases and hash {buckets, seed}', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'hg-hashed-')), 'm');
    const params = initParams(tiny, 1);
    await saveModelDir(
      dir,
      {
        format: 1,
        name: 'tiny',
        input: { shape: [2, 4, 2], range: [0, 1] },
        classes: ['a', 'b', 'c', 'd'],
        layers: tiny,
        defense: null,
        provenance: {
          dataset: { name: 'synthetic', sha256: '' },
          seed: 1,
          epochs: 0,
          command: 'test',
        },
        metrics: { testAccuracy: 0, testCount: 0 },
      },
      params,
    );
    const { manifest, tensors } = await loadModelDir(dir);
    expect(tensors.get('c.weight')!.shape).toEqual([7]);
    expect(tensors.get('d.weight')!.shape).toEqual([20]);
    expect(manifest.layers[3]).toEqual(tiny[3]);
    expect([...tensors.values()].reduce((n, t) => n + t.size, 0)).toBe(7 + 3 + 20 + 4);
  });

  test('a hashed MLP trained from scratch learns the synthetic task', async () => {
    const shape: [number, number, number] = [1, 8, 8];
    const base = mlp(shape, 4, [32]);
    const layers = hashLayers(base, parseCompressions('1/4', 2), derivedHashSeeds(1, 2));
    const model = new Sequential(shape, layers, initParams(layers, 1));
    const train = syntheticDataset({ count: 400, shape, classes: 4, seed: 3, split: 'train' });
    const test_ = syntheticDataset({ count: 200, shape, classes: 4, seed: 3, split: 'test' });
    const opt = adam({ lr: 3e-3 });
    for (let e = 0; e < 5; e++)
      await trainEpoch(
        model,
        opt,
        train,
        { epochs: 5, batchSize: 32, seed: 1, schedule: 'cosine' },
        e,
      );
    expect(accuracy(model, test_).accuracy).toBeGreaterThan(0.9);
    expect(model.parameterCount()).toBe(
      Math.ceil((64 * 32) / 4) + 32 + Math.ceil((32 * 4) / 4) + 4,
    );
  });

  test('compression specs', () => {
    expect(parseCompressions('1/8', 3)).toEqual([1 / 8, 1 / 8, 1 / 8]);
    expect(parseCompressions('1/8, dense, 0.5', 3)).toEqual([1 / 8, null, 0.5]);
    expect(() => parseCompressions('1/8,1/8', 3)).toThrow(/2 entries, the model has 3/);
    expect(() => parseCompressions('8', 1)).toThrow(/compression '8'/);
    expect(() => parseCompressions('1/0', 1)).toThrow(/compression '1\/0'/);
  });
});

// The fast backend's compiled chain equals the op-by-op autodiff on the reference kernels: forward logits,
// input gradients and parameter gradients (hashed layers included), for every committed model and for chains
// with padding, strides, odd widths and odd batch sizes; it is used only outside gradient scopes, and is
// rebuilt when parameters change.
import { describe, expect, test } from 'bun:test';
import { gradients, noGrad } from '../../src/autodiff/grad.ts';
import * as ops from '../../src/autodiff/ops.ts';
import { referenceBackend, withBackend } from '../../src/backend/index.ts';
import { createWasmBackend } from '../../src/backend/wasm/index.ts';
import { loadModelDir } from '../../src/io/model-dir.ts';
import { initParams } from '../../src/nn/init.ts';
import type { LayerSpec } from '../../src/nn/layer-spec.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { randomTensor } from '../helpers/random.ts';
import { expectClose } from '../helpers/close.ts';

const wasm = createWasmBackend()!;


const compiled = (m: Sequential, x: Tensor) => withBackend(wasm, () => noGrad(() => m.forward(x)));
const reference = (m: Sequential, x: Tensor) => withBackend(referenceBackend, () => noGrad(() => m.forward(x)));

const ce = (y: Tensor) => (z: Tensor) => ops.mean(ops.crossEntropy(z, y));
// A margin loss (the CW attack's shape) to show the chain takes any loss of the logits.
const margin = (y: Tensor) => (z: Tensor) => {
  const onehot = new Tensor(z.shape, Float32Array.from({ length: z.size }, (_, i) => (y.data[Math.floor(i / z.shape[1])] === i % z.shape[1] ? 1 : 0)));
  const correct = ops.sum(ops.mul(z, onehot), [1]);
  const other = ops.max(ops.sub(z, ops.mul(onehot, 1e4)), 1);
  return ops.sum(ops.relu(ops.sub(correct, other)));
};

function compareGradients(m: Sequential, x: Tensor, loss: (z: Tensor) => Tensor): void {
  const want = { input: true, params: true };
  const got = withBackend(wasm, () => m.lossGradients(x, loss, want));
  const ref = withBackend(referenceBackend, () => m.lossGradients(x, loss, want));
  expect(got.loss).toBeCloseTo(ref.loss, 4);
  expectClose(got.logits, ref.logits);
  expectClose(got.dx!, ref.dx!);
  for (const [name, g] of ref.grads!) expectClose(got.grads!.get(name)!, g);
  // Asking for less gives the same parts.
  const onlyInput = withBackend(wasm, () => m.lossGradients(x, loss, { input: true }));
  expectClose(onlyInput.dx!, ref.dx!);
  expect(onlyInput.grads).toBeNull();
  const onlyParams = withBackend(wasm, () => m.lossGradients(x, loss, { params: true }));
  expect(onlyParams.dx).toBeNull();
  for (const [name, g] of ref.grads!) expectClose(onlyParams.grads!.get(name)!, g);
}

describe('compiled chain (cpu-wasm-simd)', () => {
  for (const name of ['mnist-mlp', 'mnist-lenet5', 'mnist-mlp-h64', 'mnist-lenet5-h8', 'fashion-lenet5-h8']) {
    test(`${name}: logits match the reference for batches of 1, 3 and 64`, async () => {
      const { manifest, tensors } = await loadModelDir(`models/${name}`);
      const m = new Sequential(manifest.input.shape, manifest.layers, tensors);
      for (const n of [1, 3, 64]) {
        const x = randomTensor([n, ...manifest.input.shape], 0, 1, 'f32');
        expectClose(compiled(m, x), reference(m, x));
      }
    });

    test(`${name}: input and parameter gradients match the autodiff (cross-entropy and margin losses)`, async () => {
      const { manifest, tensors } = await loadModelDir(`models/${name}`);
      const m = new Sequential(manifest.input.shape, manifest.layers, tensors);
      for (const n of [1, 6]) {
        const x = randomTensor([n, ...manifest.input.shape], 0, 1, 'f32');
        const y = new Tensor([n], Float32Array.from({ length: n }, (_, i) => (i * 3) % 10));
        compareGradients(m, x, ce(y));
        compareGradients(m, x, margin(y));
      }
    });
  }

  test('padding, strides, ragged widths and a conv output that is not a multiple of 8 pixels', () => {
    const layers: LayerSpec[] = [
      { type: 'conv2d', inChannels: 3, outChannels: 5, kernelSize: 3, stride: 1, padding: 1, weight: 'c1.w', bias: 'c1.b' }, // 14×14 = 196 px
      { type: 'relu' },
      { type: 'maxpool2d', kernelSize: 3, stride: 2 }, // 6×6
      { type: 'conv2d', inChannels: 5, outChannels: 7, kernelSize: 2, stride: 2, padding: 1, weight: 'c2.w', bias: 'c2.b' }, // 4×4
      { type: 'relu' },
      { type: 'flatten' },
      { type: 'dense', inDim: 112, outDim: 13, weight: 'f1.w', bias: 'f1.b' },
      { type: 'relu' },
      { type: 'dense', inDim: 13, outDim: 3, weight: 'f2.w', bias: 'f2.b' },
    ];
    const m = new Sequential([3, 14, 14], layers, initParams(layers, 9));
    for (const n of [0, 1, 2, 5, 9]) {
      const x = randomTensor([n, 3, 14, 14], -1, 1, 'f32');
      expectClose(compiled(m, x), reference(m, x));
      if (n > 0) compareGradients(m, x, ce(new Tensor([n], Float32Array.from({ length: n }, (_, i) => i % 3))));
    }
  });

  test('backward needs a kept forward, and consumes it', () => {
    const steps = [{ kind: 'flatten' as const }, { kind: 'dense' as const, weight: randomTensor([2, 4], -1, 1, 'f32'), bias: randomTensor([2], -1, 1, 'f32') }];
    const chain = wasm.compileChain!(steps, [1, 2, 2])!;
    const x = randomTensor([3, 1, 2, 2], 0, 1, 'f32');
    chain.forward(x);
    expect(() => chain.backward(randomTensor([3, 2], -1, 1, 'f32'), { input: true, params: false })).toThrow('needs a forward(x, true)');
    chain.forward(x, true);
    expect(() => chain.backward(randomTensor([2, 2], -1, 1, 'f32'), { input: true, params: false })).toThrow("dy must be f32 with the forward output's shape");
    chain.forward(x, true);
    chain.backward(randomTensor([3, 2], -1, 1, 'f32'), { input: true, params: false });
    expect(() => chain.backward(randomTensor([3, 2], -1, 1, 'f32'), { input: true, params: false })).toThrow('needs a forward(x, true)');
  });

  test('gradients still flow through the op-by-op path, equal to the reference', () => {
    const layers: LayerSpec[] = [{ type: 'flatten' }, { type: 'dense', inDim: 12, outDim: 4, weight: 'w', bias: 'b' }];
    const m = new Sequential([1, 3, 4], layers, initParams(layers, 2));
    const x = randomTensor([2, 1, 3, 4], 0, 1, 'f32');
    const g = (b: typeof wasm) => withBackend(b, () => gradients(() => ops.sum(m.forward(x)), [x]).grads[0]);
    expectClose(g(wasm), g(referenceBackend));
    expect(Array.from(g(wasm).data).some((v) => v !== 0)).toBe(true);
  });

  test('a changed parameter tensor rebuilds the plan', () => {
    const layers: LayerSpec[] = [{ type: 'flatten' }, { type: 'dense', inDim: 4, outDim: 2, weight: 'w', bias: 'b' }];
    const m = new Sequential([1, 2, 2], layers, initParams(layers, 2));
    const x = randomTensor([3, 1, 2, 2], 0, 1, 'f32');
    const before = compiled(m, x);
    m.params.set('b', ops.add(m.params.get('b')!, 10));
    const after = compiled(m, x);
    for (let i = 0; i < after.size; i++) expect(after.data[i]).toBeCloseTo(before.data[i] + 10, 4);
    expectClose(after, reference(m, x));
  });

  test('an unsupported layer (average pooling) falls back to op-by-op, still correct', () => {
    const layers: LayerSpec[] = [{ type: 'avgpool2d', kernelSize: 2, stride: 2 }, { type: 'flatten' }, { type: 'dense', inDim: 4, outDim: 2, weight: 'w', bias: 'b' }];
    const m = new Sequential([1, 4, 4], layers, initParams(layers, 2));
    const x = randomTensor([2, 1, 4, 4], 0, 1, 'f32');
    expectClose(compiled(m, x), reference(m, x));
  });
});

describe('batches larger than CHAIN_ROWS run in slices', () => {
  test('mnist-lenet5-h8, 300 and 513 rows: logits, input and parameter gradients match the reference', async () => {
    const { CHAIN_ROWS } = await import('../../src/nn/sequential.ts');
    const { manifest, tensors } = await loadModelDir('models/mnist-lenet5-h8');
    const m = new Sequential(manifest.input.shape, manifest.layers, tensors);
    for (const n of [CHAIN_ROWS + 44, 2 * CHAIN_ROWS + 1]) {
      const x = randomTensor([n, ...manifest.input.shape], 0, 1, 'f32');
      const y = new Tensor([n], Float32Array.from({ length: n }, (_, i) => i % 10));
      expectClose(compiled(m, x), reference(m, x));
      // mean couples the rows: the slices must share the full batch's dL/dlogits.
      compareGradients(m, x, ce(y));
    }
  }, 60_000);
});

// The fast backend's compiled chain equals the op-by-op autodiff on the reference kernels: forward logits,
// input gradients and parameter gradients (hashed layers included), for every committed model and for chains
// with padding, strides, odd widths and odd batch sizes; it is used only outside gradient scopes, and is
// rebuilt when parameters change.
import { describe, expect, test } from 'bun:test';
import { gradients, noGrad } from '../../../src/autodiff/grad.ts';
import * as ops from '../../../src/autodiff/ops.ts';
import { referenceBackend, withBackend } from '../../../src/backend/index.ts';
import { createWasmBackend } from '../../../src/backend/wasm/index.ts';
import { loadModelDir } from '../../../src/io/model-dir.ts';
import { initParams } from '../../../src/nn/init.ts';
import { chainLayers } from '../../../src/nn/chain-runner.ts';
import type { LayerSpec } from '../../../src/nn/layer-spec.ts';
import { Sequential } from '../../../src/nn/sequential.ts';
import { Tensor } from '../../../src/tensor/tensor.ts';
import { randomTensor } from '../../helpers/random.ts';
import { expectClose } from '../../helpers/close.ts';

const wasm = createWasmBackend()!;

const compiled = (m: Sequential, x: Tensor) => withBackend(wasm, () => noGrad(() => m.forward(x)));
const reference = (m: Sequential, x: Tensor) =>
  withBackend(referenceBackend, () => noGrad(() => m.forward(x)));

const ce = (y: Tensor) => (z: Tensor) => ops.mean(ops.crossEntropy(z, y));
// A margin loss (the CW attack's shape) to show the chain takes any loss of the logits.
const margin = (y: Tensor) => (z: Tensor) => {
  const onehot = new Tensor(
    z.shape,
    Float32Array.from({ length: z.size }, (_, i) =>
      y.data[Math.floor(i / z.shape[1])] === i % z.shape[1] ? 1 : 0,
    ),
  );
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
  // Inputs come from fixed RNG streams (not the shared counter), so a test sees the same numbers whichever
  // test files ran before it in the process.
  ['mnist-mlp', 'mnist-lenet5', 'mnist-mlp-h64', 'mnist-lenet5-h8', 'fashion-lenet5-h8'].forEach(
    (name, mi) => {
      test(`${name}: logits match the reference for batches of 1, 3 and 64`, async () => {
        const { manifest, tensors } = await loadModelDir(`models/${name}`);
        const m = new Sequential(manifest.input.shape, manifest.layers, tensors);
        for (const n of [1, 3, 64]) {
          const x = randomTensor([n, ...manifest.input.shape], 0, 1, 'f32', 90_000 + 100 * mi + n);
          expectClose(compiled(m, x), reference(m, x));
        }
      });

      test(`${name}: input and parameter gradients match the autodiff (cross-entropy and margin losses)`, async () => {
        const { manifest, tensors } = await loadModelDir(`models/${name}`);
        const m = new Sequential(manifest.input.shape, manifest.layers, tensors);
        for (const n of [1, 6]) {
          const x = randomTensor([n, ...manifest.input.shape], 0, 1, 'f32', 95_000 + 100 * mi + n);
          const y = new Tensor(
            [n],
            Float32Array.from({ length: n }, (_, i) => (i * 3) % 10),
          );
          compareGradients(m, x, ce(y));
          compareGradients(m, x, margin(y));
        }
      });
    },
  );

  test('padding, strides, ragged widths and a conv output that is not a multiple of 8 pixels', () => {
    const layers: LayerSpec[] = [
      {
        type: 'conv2d',
        inChannels: 3,
        outChannels: 5,
        kernelSize: 3,
        stride: 1,
        padding: 1,
        weight: 'c1.w',
        bias: 'c1.b',
      }, // 14×14 = 196 px
      { type: 'relu' },
      { type: 'maxpool2d', kernelSize: 3, stride: 2 }, // 6×6
      {
        type: 'conv2d',
        inChannels: 5,
        outChannels: 7,
        kernelSize: 2,
        stride: 2,
        padding: 1,
        weight: 'c2.w',
        bias: 'c2.b',
      }, // 4×4
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
      if (n > 0)
        compareGradients(
          m,
          x,
          ce(
            new Tensor(
              [n],
              Float32Array.from({ length: n }, (_, i) => i % 3),
            ),
          ),
        );
    }
  });

  test('backward needs a kept forward, and consumes it', () => {
    const layers: LayerSpec[] = [
      { type: 'flatten' },
      { type: 'dense', inDim: 4, outDim: 2, weight: 'w', bias: 'b' },
    ];
    const chain = wasm.compileChain!(
      chainLayers(layers)!,
      new Map([
        ['w', randomTensor([2, 4], -1, 1, 'f32')],
        ['b', randomTensor([2], -1, 1, 'f32')],
      ]),
      [1, 2, 2],
    )!;
    const x = randomTensor([3, 1, 2, 2], 0, 1, 'f32');
    chain.forward(x);
    expect(() =>
      chain.backward(randomTensor([3, 2], -1, 1, 'f32'), { input: true, params: false }),
    ).toThrow('needs a forward(x, true)');
    chain.forward(x, true);
    expect(() =>
      chain.backward(randomTensor([2, 2], -1, 1, 'f32'), { input: true, params: false }),
    ).toThrow("dy must be f32 with the forward output's shape");
    chain.forward(x, true);
    chain.backward(randomTensor([3, 2], -1, 1, 'f32'), { input: true, params: false });
    expect(() =>
      chain.backward(randomTensor([3, 2], -1, 1, 'f32'), { input: true, params: false }),
    ).toThrow('needs a forward(x, true)');
  });

  test("forward(x, 'params') keeps the conv columns; rebuilding them gives the same parameter gradients", () => {
    // Two convs (one padded, one with 6×6 = 36 px, not a multiple of 8) so both column layouts are exercised.
    const conv1 = {
      weight: randomTensor([5, 2, 3, 3], -1, 1, 'f32'),
      bias: randomTensor([5], -1, 1, 'f32'),
      params: { stride: 1, padding: 1 },
    };
    const conv2 = {
      weight: randomTensor([4, 5, 3, 3], -1, 1, 'f32'),
      bias: randomTensor([4], -1, 1, 'f32'),
      params: { stride: 1, padding: 0 },
    };
    const layers: LayerSpec[] = [
      {
        type: 'conv2d',
        inChannels: 2,
        outChannels: 5,
        kernelSize: 3,
        stride: 1,
        padding: 1,
        weight: 'c1.w',
        bias: 'c1.b',
      },
      { type: 'relu' },
      {
        type: 'conv2d',
        inChannels: 5,
        outChannels: 4,
        kernelSize: 3,
        stride: 1,
        padding: 0,
        weight: 'c2.w',
        bias: 'c2.b',
      },
      { type: 'flatten' },
    ];
    const params = new Map([
      ['c1.w', conv1.weight],
      ['c1.b', conv1.bias],
      ['c2.w', conv2.weight],
      ['c2.b', conv2.bias],
    ]);
    const chain = wasm.compileChain!(chainLayers(layers)!, params, [2, 8, 8])!;
    const x = randomTensor([5, 2, 8, 8], -1, 1, 'f32'),
      other = randomTensor([5, 2, 8, 8], -1, 1, 'f32');
    const dy = randomTensor([5, 4 * 6 * 6], -1, 1, 'f32');
    const want = { input: false, params: true };
    chain.forward(x, 'params');
    const kept = chain.backward(dy, want).grads!;
    chain.forward(x, true); // no columns kept: backward rebuilds them
    const rebuilt = chain.backward(dy, want).grads!;
    // Columns kept for `other` are stale once x runs forward again without 'params'.
    chain.forward(other, 'params');
    chain.forward(x, true);
    const afterStale = chain.backward(dy, want).grads!;
    // The reference: conv2d weight and bias gradients through the same relu, from the reference kernels.
    const ref = referenceBackend;
    const h = ref.conv2d(x, conv1.weight, conv1.params);
    const hb = ref.biasAdd(h, conv1.bias);
    const a = ref.unary('relu', hb);
    const dy4 = dy.reshape([5, 4, 6, 6]);
    const dw2 = ref.conv2dGradWeight(a, dy4, conv2.weight.shape, conv2.params);
    const da = ref.conv2dGradInput(dy4, conv2.weight, a.shape, conv2.params);
    const dh = new Tensor(
      da.shape,
      Float32Array.from(da.data as Float32Array, (v, i) =>
        (hb.data as Float32Array)[i] > 0 ? v : 0,
      ),
    );
    const dw1 = ref.conv2dGradWeight(x, dh, conv1.weight.shape, conv1.params);
    const channelSums = (t: Tensor) => {
      const [n, c, hh, ww] = t.shape,
        out = new Float32Array(c);
      for (let i = 0; i < t.size; i++) out[Math.floor(i / (hh * ww)) % c] += t.data[i] as number;
      void n;
      return new Tensor([c], out);
    };
    for (const got of [kept, rebuilt, afterStale]) {
      expectClose(got.get('c1.w')!, dw1);
      expectClose(got.get('c1.b')!, channelSums(dh));
      expectClose(got.get('c2.w')!, dw2);
      expectClose(got.get('c2.b')!, channelSums(dy4));
    }
  });

  test('gradients still flow through the op-by-op path, equal to the reference', () => {
    const layers: LayerSpec[] = [
      { type: 'flatten' },
      { type: 'dense', inDim: 12, outDim: 4, weight: 'w', bias: 'b' },
    ];
    const m = new Sequential([1, 3, 4], layers, initParams(layers, 2));
    const x = randomTensor([2, 1, 3, 4], 0, 1, 'f32');
    const g = (b: typeof wasm) =>
      withBackend(b, () => gradients(() => ops.sum(m.forward(x)), [x]).grads[0]);
    expectClose(g(wasm), g(referenceBackend));
    expect(Array.from(g(wasm).data).some((v) => v !== 0)).toBe(true);
  });

  test('a changed parameter tensor rebuilds the plan', () => {
    const layers: LayerSpec[] = [
      { type: 'flatten' },
      { type: 'dense', inDim: 4, outDim: 2, weight: 'w', bias: 'b' },
    ];
    const m = new Sequential([1, 2, 2], layers, initParams(layers, 2));
    const x = randomTensor([3, 1, 2, 2], 0, 1, 'f32');
    const before = compiled(m, x);
    m.params.set('b', ops.add(m.params.get('b')!, 10));
    const after = compiled(m, x);
    for (let i = 0; i < after.size; i++) expect(after.data[i]).toBeCloseTo(before.data[i] + 10, 4);
    expectClose(after, reference(m, x));
  });

  test('an unsupported layer (average pooling) falls back to op-by-op, still correct', () => {
    const layers: LayerSpec[] = [
      { type: 'avgpool2d', kernelSize: 2, stride: 2 },
      { type: 'flatten' },
      { type: 'dense', inDim: 4, outDim: 2, weight: 'w', bias: 'b' },
    ];
    const m = new Sequential([1, 4, 4], layers, initParams(layers, 2));
    const x = randomTensor([2, 1, 4, 4], 0, 1, 'f32');
    expectClose(compiled(m, x), reference(m, x));
  });
});

describe('batches larger than CHAIN_ROWS run in slices', () => {
  // The gradients are checked against the op-by-op autodiff on the same (wasm) kernels, not the reference: a
  // max-pool2d window whose two largest values differ by a rounding error picks its argmax differently under a
  // different summation, which moves that image's whole gradient (it happened: one image in 513 at 3e-4).
  // The chain's own kernels are checked against the reference above; this test is about slicing.
  test('mnist-lenet5-h8, 300 and 513 rows: logits match the reference; gradients match the same kernels op by op', async () => {
    const { CHAIN_ROWS } = await import('../../../src/backend/wasm/chain.ts');
    const { manifest, tensors } = await loadModelDir('models/mnist-lenet5-h8');
    const m = new Sequential(manifest.input.shape, manifest.layers, tensors);
    const names = m.parameterNames();
    for (const n of [CHAIN_ROWS + 44, 2 * CHAIN_ROWS + 1]) {
      const x = randomTensor([n, ...manifest.input.shape], 0, 1, 'f32');
      const y = new Tensor(
        [n],
        Float32Array.from({ length: n }, (_, i) => i % 10),
      );
      expectClose(compiled(m, x), reference(m, x));
      // mean couples the rows: the slices must share the full batch's dL/dlogits.
      const opByOp = withBackend(wasm, () =>
        gradients(() => ce(y)(m.forward(x)), [x, ...names.map((k) => m.params.get(k)!)]),
      );
      for (const want of [{ input: true, params: true }, { input: true }, { params: true }]) {
        const got = withBackend(wasm, () => m.lossGradients(x, ce(y), want));
        expect(got.loss).toBeCloseTo(opByOp.value.item(), 4);
        if (want.input) expectClose(got.dx!, opByOp.grads[0]);
        else expect(got.dx).toBeNull();
        if (want.params)
          names.forEach((k, i) => expectClose(got.grads!.get(k)!, opByOp.grads[i + 1]));
        else expect(got.grads).toBeNull();
      }
    }
  }, 60_000);

  test('mnist-lenet5-h8, 513 rows: a near-tied max-pool2d window is the only difference from the reference', async () => {
    // Stream 168 holds such an image (index 406): everywhere else the sliced gradients equal the reference's.
    const { manifest, tensors } = await loadModelDir('models/mnist-lenet5-h8');
    const m = new Sequential(manifest.input.shape, manifest.layers, tensors);
    const x = randomTensor([513, ...manifest.input.shape], 0, 1, 'f32', 168);
    const y = new Tensor(
      [513],
      Float32Array.from({ length: 513 }, (_, i) => i % 10),
    );
    const got = withBackend(wasm, () => m.lossGradients(x, ce(y), { input: true }));
    const ref = withBackend(referenceBackend, () => m.lossGradients(x, ce(y), { input: true }));
    const per = 784;
    const keep = (t: Tensor) =>
      new Tensor(
        [512, per],
        Float32Array.from(
          { length: 512 * per },
          (_, i) => t.data[i < 406 * per ? i : i + per] as number,
        ),
      );
    expectClose(keep(got.dx!), keep(ref.dx!));
  }, 60_000);
});

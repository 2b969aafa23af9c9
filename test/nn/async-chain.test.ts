// Sequential.forwardAsync / lossGradientsAsync: on CPU backends exactly the synchronous results (bit for bit);
// on a backend with an async chain the chain runs, and a ChainFault (device lost, out of memory) reruns the call
// on the synchronous path. The chain here is a CPU fake, so this runs everywhere (the GPU chain's own tests are
// test/backend/webgpu/chain*.test.ts).
import { describe, expect, test } from 'bun:test';
import * as ops from '../../src/autodiff/ops.ts';
import { gradients, noGrad } from '../../src/autodiff/grad.ts';
import { getBackend, withBackendAsync as on } from '../../src/backend/index.ts';
import { initParams } from '../../src/nn/init.ts';
import type { LayerSpec } from '../../src/nn/layer-spec.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { ChainFault, type AsyncChain, type Backend } from '../../src/tensor/index.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { backends } from '../helpers/backends.ts';
import { randomTensor } from '../helpers/random.ts';

const layers: LayerSpec[] = [
  {
    type: 'hashed-conv2d',
    inChannels: 1,
    outChannels: 3,
    kernelSize: 3,
    stride: 1,
    padding: 1,
    weight: 'c.weight',
    bias: 'c.bias',
    hash: { buckets: 7, seed: 11 },
  },
  { type: 'relu' },
  { type: 'maxpool2d', kernelSize: 2, stride: 2 },
  { type: 'flatten' },
  { type: 'dense', inDim: 48, outDim: 4, weight: 'd.weight', bias: 'd.bias' },
];
const model = () => new Sequential([1, 8, 8], layers, initParams(layers, 4));
const x = randomTensor([5, 1, 8, 8], 0, 1, 'f32');
const y = new Tensor([5], Float32Array.of(0, 1, 2, 3, 1));
const ce = (z: Tensor) => ops.sum(ops.crossEntropy(z, y));

const same = (a: Tensor | null, b: Tensor | null) => {
  expect(a && Array.from(a.data)).toEqual(b && Array.from(b.data));
  expect(a?.shape).toEqual(b?.shape);
};

describe('Sequential async methods on CPU backends', () => {
  for (const backend of backends) {
    test(`${backend.name}: forwardAsync and lossGradientsAsync are the synchronous results, bit for bit`, async () => {
      const m = model();
      await on(backend, async () => {
        same(await m.forwardAsync(x), m.forward(x));
        const want = m.lossGradients(x, ce, { input: true, params: true });
        const got = await m.lossGradientsAsync(x, ce, { input: true, params: true });
        expect(got.loss).toBe(want.loss);
        same(got.logits, want.logits);
        same(got.dx, want.dx);
        expect([...got.grads!.keys()]).toEqual([...want.grads!.keys()]);
        for (const [n, g] of want.grads!) same(got.grads!.get(n)!, g);
      });
    });
  }

  test('forwardAsync computes before it returns, inside the caller noGrad scope; shape errors reject', async () => {
    const m = model();
    const p = noGrad(() => m.forwardAsync(x));
    same(await p, m.forward(x));
    await expect(m.forwardAsync(randomTensor([2, 1, 4, 4], 0, 1, 'f32'))).rejects.toThrow(
      /does not match/,
    );
  });
});

/** A backend whose async chain is the CPU network itself, with switches to fail like a GPU would. */
function fakeBackend(cpu: Sequential) {
  const log: string[] = [];
  let fail: ChainFault | Error | null = null;
  let params: ReadonlyMap<string, Tensor> = cpu.params;
  let kept: Tensor | null = null;
  const chain = (): AsyncChain => ({
    async forward(input, keep) {
      log.push(keep ? 'forward keep' : 'forward');
      if (fail) throw fail;
      kept = keep ? input : null;
      return noGrad(() => cpu.forward(input, params));
    },
    async backward(dy, want) {
      log.push('backward');
      const r = cpu.lossGradients(kept!, (z) => ops.sum(ops.mul(z, dy)), want, params);
      return { dx: r.dx, grads: r.grads && new Map([...r.grads].reverse()) }; // any order: Sequential orders them
    },
    setParams(p) {
      params = p;
    },
    dispose() {
      log.push('dispose');
    },
  });
  const backend: Backend = {
    ...getBackend(),
    name: 'fake-async',
    compileAsyncChain() {
      log.push('compile');
      return chain();
    },
  };
  return { backend, log, failWith: (e: ChainFault | Error | null) => (fail = e) };
}

describe('Sequential async methods on a backend with an async chain', () => {
  test('the chain runs forward and forward+backward; the loss is differentiated on the CPU', async () => {
    const m = model();
    const fake = fakeBackend(model());
    await on(fake.backend, async () => {
      same(await m.forwardAsync(x), m.forward(x));
      const want = m.lossGradients(x, ce, { input: true, params: true });
      const got = await m.lossGradientsAsync(x, ce, { input: true, params: true });
      expect(got.loss).toBeCloseTo(want.loss, 5);
      expect([...got.grads!.keys()]).toEqual(m.parameterNames());
      for (const [n, g] of want.grads!)
        for (let i = 0; i < g.size; i++)
          expect(got.grads!.get(n)!.data[i]).toBeCloseTo(g.data[i], 5);
    });
    expect(fake.log).toEqual(['compile', 'forward', 'forward keep', 'backward']);
  });

  test('inside a gradient scope the synchronous path runs (the tape must see the ops)', async () => {
    const m = model();
    const fake = fakeBackend(model());
    await on(fake.backend, async () => {
      const { grads } = gradients(() => {
        void m.forwardAsync(x);
        return ops.sum(m.forward(x));
      }, [x]);
      expect(grads[0].shape).toEqual(x.shape);
    });
    expect(fake.log).toEqual([]);
  });

  test('a ChainFault reruns the call on the CPU path and drops the chain; the next call compiles afresh', async () => {
    const m = model();
    const fake = fakeBackend(model());
    await on(fake.backend, async () => {
      await m.forwardAsync(x);
      fake.failWith(new ChainFault('out of GPU memory allocating activations', 'out-of-memory'));
      same(await m.forwardAsync(x), m.forward(x));
      const want = m.lossGradients(x, ce, { input: true });
      same((await m.lossGradientsAsync(x, ce, { input: true })).dx, want.dx);
      fake.failWith(null);
      await m.forwardAsync(x);
    });
    expect(fake.log).toEqual([
      'compile',
      'forward',
      'forward',
      'dispose',
      'compile',
      'forward keep',
      'dispose',
      'compile',
      'forward',
    ]);
  });

  test("a 'too-large' fault runs that call on the CPU and keeps the chain; other errors reject", async () => {
    const m = model();
    const fake = fakeBackend(model());
    await on(fake.backend, async () => {
      fake.failWith(new ChainFault('batch too large', 'too-large'));
      same(await m.forwardAsync(x), m.forward(x));
      fake.failWith(new Error('a bug'));
      await expect(m.forwardAsync(x)).rejects.toThrow('a bug');
    });
    expect(fake.log).toEqual(['compile', 'forward', 'forward']);
  });
});

// Device loss under a GPU chain (issue 5 item 5; docs/design.md §7 "handle device.lost"): a device destroyed while
// a forward or backward is in flight never hangs; Sequential reruns the call on the CPU path, and the backend
// rebuilds its device for later calls. Each test has its own device (destroyed on purpose).
import { afterAll, describe, expect, test } from 'bun:test';
import * as ops from '../../../src/autodiff/ops.ts';
import { defaultBackend, getBackend, setBackend } from '../../../src/backend/index.ts';
import { createWebGpuBackend } from '../../../src/backend/webgpu/backend.ts';
import { chooseGpu, type AcquiredGpu } from '../../../src/backend/webgpu/device.ts';
import { compileGpuChain } from '../../../src/backend/webgpu/gpu-chain.ts';
import { chainLayers } from '../../../src/nn/chain-runner.ts';
import type { Sequential } from '../../../src/nn/sequential.ts';
import { ChainFault } from '../../../src/tensor/index.ts';
import { Tensor, zeros } from '../../../src/tensor/tensor.ts';
import { committedModel, mnistSubset } from '../../helpers/attack-data.ts';
import {
  adapterAvailableTest,
  expectBitExact,
  expectCloseEach,
  parityGpu,
  spyChains,
} from '../../helpers/webgpu-parity.ts';

const device = await parityGpu('webgpu chain faults');
device.gpu?.device.destroy(); // only the skip rule's probe: every test acquires its own device
const fresh = async (): Promise<AcquiredGpu | null> =>
  (await chooseGpu({ allowSoftware: true, backend: 'auto' })).gpu;
const devices: AcquiredGpu[] = [];
afterAll(() => devices.forEach((g) => g.device.destroy()));
const acquire = async () => {
  const g = (await fresh())!;
  devices.push(g);
  return g;
};

/** Rejects after `ms` so a hang fails the test with a message instead of timing out silently. */
const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} still pending after ${ms} ms`)), ms),
    ),
  ]);

describe('webgpu chain: device loss and out of memory', () => {
  adapterAvailableTest(device);

  describe.skipIf(!device.gpu)('faults', () => {
    let model: Sequential, x: Tensor, y: Tensor;
    const setup = async () => {
      model ??= await committedModel('mnist-lenet5');
      if (!x) ({ x, y } = await mnistSubset(6));
    };

    test('a chain whose device is destroyed mid-forward rejects with a ChainFault, then rejects every call', async () => {
      await setup();
      const g = await acquire();
      const chain = compileGpuChain(
        g.device,
        chainLayers(model.layers)!,
        model.params,
        model.inputShape,
      )!;
      await chain.forward(x); // warm: pipelines and buffers exist
      const inFlight = chain.forward(x, true);
      g.device.destroy();
      const err = await within(
        inFlight.then(
          () => null,
          (e: unknown) => e,
        ),
        10_000,
        'forward on a destroyed device',
      );
      console.log(
        `forward in flight at the loss: ${err ? `rejected: ${(err as Error).message}` : 'completed before the loss was seen'}`,
      );
      // The copy may have finished before the loss was noticed; then the next call must reject.
      const next = await within(
        chain.forward(x).then(
          () => null,
          (e: unknown) => e,
        ),
        10_000,
        'forward after the loss',
      );
      for (const e of err ? [err, next] : [next]) {
        expect(e).toBeInstanceOf(ChainFault);
        expect((e as ChainFault).reason).toBe('device-lost');
        expect((e as Error).message).toMatch(/device lost|readback failed/);
      }
      await expect(
        within(chain.backward(zeros([6, 10]), { input: true, params: false }), 10_000, 'backward'),
      ).rejects.toBeInstanceOf(Error);
    }, 30_000);

    test('Sequential reruns calls in flight on the CPU path; the backend rebuilds its device for the next calls', async () => {
      await setup();
      const g = await acquire();
      let rebuilt: AcquiredGpu | null = null;
      const backend = createWebGpuBackend(g, defaultBackend, {
        reacquire: async () => (rebuilt = await acquire()),
      });
      const spy = spyChains(backend);
      const outcomes = spy.calls;
      const ce = (z: Tensor) => ops.sum(ops.crossEntropy(z, y));
      const want = model.forward(x);
      const wantDx = model.lossGradients(x, ce, { input: true }).dx!;
      const prev = getBackend();
      setBackend(backend);
      try {
        expectCloseEach('before the loss', (await model.forwardAsync(x)).data, want.data, 1e-4);
        expect(spy.compiled).toBe(1);
        // Both calls are queued on the chain when the device goes away: each completes, on the CPU if need be.
        const [z, r] = [model.forwardAsync(x), model.lossGradientsAsync(x, ce, { input: true })];
        g.device.destroy();
        const [zz, rr] = await within(Promise.all([z, r]), 20_000, 'calls in flight');
        console.log(`chain calls around the loss: ${outcomes.join(', ')}`);
        expect(outcomes.slice(1)).toContain('ChainFault'); // at least one call in flight was rerun on the CPU
        expectCloseEach('logits across the loss', zz.data, want.data, 1e-4);
        expectCloseEach('dx across the loss', rr.dx!.data, wantDx.data, 1e-4);
        expect(backend.describe!()).toMatch(/webgpu device lost \(destroyed|webgpu via/);
        await within(backend.settled(), 20_000, 'device rebuild');
        expect(rebuilt).not.toBeNull();
        expect(backend.gpu?.device).toBe(rebuilt!.device);
        // The next call compiles a chain on the new device and runs there.
        outcomes.length = 0;
        expectCloseEach('after the rebuild', (await model.forwardAsync(x)).data, want.data, 1e-4);
        expect(spy.compiled).toBe(2);
        expectCloseEach(
          'dx after the rebuild',
          (await model.lossGradientsAsync(x, ce, { input: true })).dx!.data,
          wantDx.data,
          1e-4,
        );
        expect(outcomes).toEqual(['gpu', 'gpu', 'gpu']);
      } finally {
        setBackend(prev);
      }
    }, 60_000);

    test('out of memory allocating a batch: that call reruns on the CPU; the next one compiles again and runs on the GPU', async () => {
      await setup();
      const g = await acquire();
      // Dawn on llvmpipe does not run out of memory on demand: a device whose next out-of-memory scope reports an
      // error plays it (every call still reaches the real device).
      let failNext = false;
      const scopes: GPUErrorFilter[] = [];
      const real = g.device;
      const dev = new Proxy(real, {
        get(target, key) {
          if (key === 'pushErrorScope')
            return (f: GPUErrorFilter) => (scopes.push(f), target.pushErrorScope(f));
          if (key === 'popErrorScope')
            return () => {
              const f = scopes.pop();
              return target.popErrorScope().then((e) => {
                if (f !== 'out-of-memory' || !failNext) return e;
                failNext = false;
                return { message: 'simulated allocation failure' } as GPUError;
              });
            };
          const v = Reflect.get(target, key, target);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
      const backend = createWebGpuBackend({ ...g, device: dev }, defaultBackend);
      const spy = spyChains(backend);
      const want = model.forward(x);
      const prev = getBackend();
      setBackend(backend);
      try {
        await model.forwardAsync(x); // compiles, uploads weights (no failure yet)
        failNext = true;
        const x5 = new Tensor([5, 1, 28, 28], x.data.slice(0, 5 * 784)); // a new batch size: new buffers
        expectBitExact('CPU rerun', (await model.forwardAsync(x5)).data, model.forward(x5).data);
        expect(spy.calls).toEqual(['gpu', 'ChainFault']);
        expectCloseEach(
          'next call on the GPU',
          (await model.forwardAsync(x)).data,
          want.data,
          1e-4,
        );
        expect(spy.compiled).toBe(2);
        expect(spy.calls.at(-1)).toBe('gpu');
      } finally {
        setBackend(prev);
      }
    }, 30_000);

    test('without a replacement device the backend stays on the CPU kernels, with bit-identical results', async () => {
      await setup();
      const g = await acquire();
      const backend = createWebGpuBackend(g, defaultBackend); // no reacquire: stay on CPU after a loss
      g.device.destroy();
      await within(g.device.lost, 10_000, 'device.lost');
      expect(backend.gpu).toBeNull();
      expect(
        backend.compileAsyncChain!(chainLayers(model.layers)!, model.params, model.inputShape),
      ).toBeNull();
      const prev = getBackend();
      setBackend(backend);
      try {
        expectBitExact('CPU logits', (await model.forwardAsync(x)).data, model.forward(x).data);
      } finally {
        setBackend(prev);
      }
    }, 30_000);
  });
});

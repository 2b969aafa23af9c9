// Whole networks on the GPU chain (src/backend/webgpu/gpu-chain.ts) against the CPU backend on the committed
// LeNet-5 models, dense and hashed 1/8: forward on 1000 test images, input and parameter gradients, a PGD attack
// through WhiteBox, and a training step. Same skip rule as the kernel parity suites (fail without an adapter
// (it skips with one line where no adapter exists, and fails under CI=true)). Batches stay small: llvmpipe is slower than the CPU kernels.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import * as ops from '../../../src/autodiff/ops.ts';
import { PGD } from '../../../src/attacks/pgd.ts';
import { WhiteBox } from '../../../src/attacks/target.ts';
import { defaultBackend, withBackendAsync as on } from '../../../src/backend/index.ts';
import { createWebGpuBackend, type WebGpuBackend } from '../../../src/backend/webgpu/backend.ts';
import { compileGpuChain } from '../../../src/backend/webgpu/gpu-chain.ts';
import { loadDataset } from '../../../src/data/node.ts';
import { DefendedModel } from '../../../src/defense/defended-model.ts';
import { gatherBatch } from '../../../src/nn/batches.ts';
import { chainLayers } from '../../../src/nn/chain-runner.ts';
import { crossEntropyLoss } from '../../../src/nn/losses.ts';
import { sgd } from '../../../src/nn/optimizers.ts';
import { Sequential } from '../../../src/nn/sequential.ts';
import { trainEpoch } from '../../../src/nn/train.ts';
import type { Backend } from '../../../src/tensor/backend.ts';
import { Tensor } from '../../../src/tensor/tensor.ts';
import { committedModel, mnistSubset } from '../../helpers/attack-data.ts';
import { goldenSubset } from '../../helpers/committed-models.ts';
import {
  adapterAvailableTest,
  expectClose,
  expectCloseEach,
  parityGpu,
  spyChains,
} from '../../helpers/webgpu-parity.ts';

/** Logits: per element |gpu − cpu| ≤ 1e-4 · max(1, |cpu|). Gradients: norm-wise, ‖Δ‖∞ ≤ 1e-4 · max(1, ‖cpu‖∞). */
const TOLERANCE = 1e-4;

const device = await parityGpu('webgpu chain');
const gpu = device.gpu;
afterAll(() => gpu?.device.destroy());
const cpu = defaultBackend;
const webgpu: WebGpuBackend | null = gpu ? createWebGpuBackend(gpu, cpu) : null;
const spy = webgpu ? spyChains(webgpu) : { compiled: 0, calls: [] };
/** Every chain call since the last check completed on the GPU (none fell back to the CPU), and there were some. */
function ranOnGpu(): void {
  expect(spy.calls.length).toBeGreaterThan(0);
  expect(spy.calls.filter((c) => c !== 'gpu')).toEqual([]);
  spy.calls.length = 0;
}

const argmax = (z: Tensor) =>
  Array.from({ length: z.shape[0] }, (_, r) => {
    let best = 0;
    for (let j = 1; j < z.shape[1]; j++)
      if (z.data[r * z.shape[1] + j] > z.data[r * z.shape[1] + best]) best = j;
    return best;
  });

describe('webgpu chain: whole models on the GPU against the CPU backend', () => {
  adapterAvailableTest(device);

  describe.skipIf(!gpu)('committed models', () => {
    const models = new Map<string, Sequential>();
    let x1000: Tensor;
    beforeAll(async () => {
      for (const name of ['mnist-lenet5', 'mnist-lenet5-h8'])
        models.set(name, await committedModel(name));
      const { test: split } = await loadDataset('mnist');
      x1000 = gatherBatch(split, goldenSubset(split.count), 0, 1000).x;
    }, 60_000);

    for (const name of ['mnist-lenet5', 'mnist-lenet5-h8']) {
      test(`${name}: same argmax on the 1000-image golden subset, logits within 1e-4`, async () => {
        const m = models.get(name)!;
        const want = await on(cpu, () => m.forwardAsync(x1000));
        const got = await on(webgpu!, () => m.forwardAsync(x1000));
        expect(got.shape).toEqual([1000, 10]);
        console.log(
          `${name} forward: worst per-logit relative error ${expectCloseEach(`${name} logits`, got.data, want.data, TOLERANCE).toExponential(2)}`,
        );
        expect(argmax(got)).toEqual(argmax(want));
        ranOnGpu();
      }, 60_000);

      test(`${name}: input gradient (a PGD step's) and training gradients match the CPU within 1e-4`, async () => {
        const m = models.get(name)!;
        const { x, y } = await mnistSubset(12);
        const ce = (z: Tensor) => ops.sum(ops.crossEntropy(z, y));
        const wantDx = await on(cpu, () => m.lossGradientsAsync(x, ce, { input: true }));
        const gotDx = await on(webgpu!, () => m.lossGradientsAsync(x, ce, { input: true }));
        expect(gotDx.loss).toBeCloseTo(wantDx.loss, 4);
        const dxErr = expectClose(`${name} dx`, gotDx.dx!.data, wantDx.dx!.data, TOLERANCE);
        const mean = (z: Tensor) => crossEntropyLoss(z, y);
        const want = await on(cpu, () => m.lossGradientsAsync(x, mean, { params: true }));
        const got = await on(webgpu!, () => m.lossGradientsAsync(x, mean, { params: true }));
        expect(got.dx).toBeNull();
        expect([...got.grads!.keys()]).toEqual(m.parameterNames());
        let worst = 0;
        for (const [n, g] of want.grads!) {
          expect(got.grads!.get(n)!.shape).toEqual(g.shape);
          worst = Math.max(
            worst,
            expectClose(`${name} d${n}`, got.grads!.get(n)!.data, g.data, TOLERANCE),
          );
        }
        console.log(
          `${name} gradients: dx ${dxErr.toExponential(2)}, parameters worst ${worst.toExponential(2)}`,
        );
        ranOnGpu();
      }, 60_000);
    }

    // ε 0.06 breaks some of these 12 images and not others (CPU: 111101010101), so the vector says something.
    test('mnist-lenet5-h8: PGD (L∞ ε 0.06, 8 × 0.015, random start) through WhiteBox gives the CPU success vector', async () => {
      const m = models.get('mnist-lenet5-h8')!;
      const { x, y } = await mnistSubset(12);
      const attack = () =>
        new PGD({ eps: 0.06, alpha: 0.015, steps: 8, seed: 5 }).run(new WhiteBox(m), x, y);
      const want = await on(cpu, attack);
      const got = await on(webgpu!, attack);
      console.log(
        `PGD success cpu ${want.success.map(Number).join('')}, webgpu ${got.success.map(Number).join('')}`,
      );
      expect(got.cleanCorrect).toEqual(want.cleanCorrect);
      expect(got.success).toEqual(want.success);
      expect(new Set(want.success).size).toBe(2);
      ranOnGpu();
    }, 60_000);

    test('a training step (SGD, batch 24) on the GPU updates the hashed weights as the CPU step does', async () => {
      const { test: split } = await loadDataset('mnist');
      const data = { ...split, count: 24 }; // the first 24 test images: one step of batch 24
      const step = async (backend: Backend) => {
        const src = models.get('mnist-lenet5-h8')!;
        const m = new Sequential(src.inputShape, src.layers, new Map(src.params));
        const r = await on(backend, () =>
          trainEpoch(
            m,
            sgd({ lr: 0.05 }),
            data,
            { epochs: 1, batchSize: 24, seed: 3, schedule: 'constant' },
            0,
          ),
        );
        return { m, r };
      };
      const want = await step(cpu);
      const got = await step(webgpu!);
      expect(got.r.loss).toBeCloseTo(want.r.loss, 4);
      expect(got.r.accuracy).toBe(want.r.accuracy);
      let worst = 0;
      for (const [n, p] of want.m.params) {
        expect(got.m.params.get(n)).not.toBe(models.get('mnist-lenet5-h8')!.params.get(n)); // updated
        worst = Math.max(
          worst,
          expectClose(`updated ${n}`, got.m.params.get(n)!.data, p.data, TOLERANCE),
        );
      }
      console.log(
        `training step: updated parameters worst relative error ${worst.toExponential(2)}`,
      );
      ranOnGpu();
    }, 60_000);

    test('random GI (DefendedModel): per-call draws, noisy last layer and logit scales match the CPU call for call', async () => {
      const m = models.get('mnist-lenet5-h8')!;
      const { x, y } = await mnistSubset(6);
      const spec = {
        stages: [{ kind: 'random' as const, alphaMin: 2, alphaMax: 50, noise: 0.05 }],
        source: { name: 'mnist-lenet5-h8', weightsSha256: '', hashed: true },
      };
      const ce = (z: Tensor) => ops.sum(ops.crossEntropy(z, y));
      // Same secret, same call sequence: forward, gradient, forward with a fixed seed, gradient.
      const calls = async () => {
        const d = new DefendedModel(m, spec, 9);
        return [
          await d.forwardAsync(x),
          (await d.lossGradientsAsync(x, ce, { input: true })).dx!,
          await d.forwardAsync(x, 7),
          (await d.lossGradientsAsync(x, ce, { input: true })).dx!,
        ];
      };
      const want = await on(cpu, calls);
      const got = await on(webgpu!, calls);
      want.forEach((w, k) => expectClose(`GI call ${k}`, got[k].data, w.data, TOLERANCE));
      ranOnGpu();
    }, 60_000);

    test('a chained batch past the activation budget runs in chunks with the same logits', async () => {
      const m = models.get('mnist-lenet5')!;
      const x = x1000;
      const small = compileGpuChain(gpu!.device, chainLayers(m.layers)!, m.params, m.inputShape, {
        activationBudget: 40 * 61_000 * 2,
      })!;
      try {
        expect(small.maxRows).toBeLessThan(50);
        const rows = 2 * small.maxRows + 3;
        const part = (await on(cpu, () => m.forwardAsync(x))).data.subarray(0, rows * 10);
        const got = await small.forward(sliceRows(x, rows));
        expectCloseEach('chunked logits', got.data, part, TOLERANCE);
        await expect(small.forward(sliceRows(x, rows), true)).rejects.toThrow(/exceeds/);
      } finally {
        small.dispose();
      }
    }, 60_000);

    test('layers without a GPU kernel (avgpool2d) compile to null: the CPU path runs', () => {
      const layers = [
        { type: 'avgpool2d', kernelSize: 2, stride: 2 } as const,
        { type: 'flatten' } as const,
      ];
      expect(compileGpuChain(gpu!.device, layers, new Map(), [1, 4, 4])).toBeNull();
    });
  });
});

function sliceRows(x: Tensor, rows: number): Tensor {
  const per = x.size / x.shape[0];
  return new Tensor([rows, ...x.shape.slice(1)], x.data.slice(0, rows * per));
}

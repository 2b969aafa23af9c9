// The same attacks give the same results on the WebGPU backend as on the fast CPU backend (issue 6 item 5):
// PGD through WhiteBox (input gradients on the GPU chain) and Square through ScoreOracle (forwards on the
// chain), 50 MNIST test images on mnist-lenet5, on the software adapter in CI. The reference/wasm pair is
// test/attacks/backend-parity.test.ts; together they cover all three backends.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { PGD } from '../../../src/attacks/pgd.ts';
import { Square } from '../../../src/attacks/square.ts';
import { ScoreOracle, WhiteBox } from '../../../src/attacks/target.ts';
import type { AttackResult } from '../../../src/attacks/types.ts';
import { defaultBackend, withBackendAsync } from '../../../src/backend/index.ts';
import { createWebGpuBackend } from '../../../src/backend/webgpu/backend.ts';
import type { Sequential } from '../../../src/nn/sequential.ts';
import type { Tensor } from '../../../src/tensor/tensor.ts';
import { committedModel, mnistSubset } from '../../helpers/attack-data.ts';
import { adapterAvailableTest, parityGpu, spyChains } from '../../helpers/webgpu-parity.ts';

const device = await parityGpu('attack parity (webgpu vs wasm)');
afterAll(() => device.gpu?.device.destroy());
const webgpu = device.gpu ? createWebGpuBackend(device.gpu, defaultBackend) : null;
const spy = webgpu ? spyChains(webgpu) : { compiled: 0, calls: [] as string[] };

let model: Sequential, x: Tensor, y: Tensor;
beforeAll(async () => {
  model = await committedModel('mnist-lenet5');
  ({ x, y } = await mnistSubset(50));
}, 60_000);

/** Same verdicts (one rounding-boundary example allowed) and ≥ 99% of pixels equal to float32 rounding. */
function expectSame(a: AttackResult, b: AttackResult): void {
  expect(a.success.filter((s, i) => s === b.success[i]).length).toBeGreaterThanOrEqual(
    a.success.length - 1,
  );
  expect(a.cleanCorrect).toEqual(b.cleanCorrect);
  let same = 0;
  a.xAdv.data.forEach((v, i) => {
    if (Math.abs(v - b.xAdv.data[i]) <= 1e-5) same++;
  });
  console.log(`pixels agreeing: ${((100 * same) / a.xAdv.size).toFixed(3)}%`);
  expect(same / a.xAdv.size).toBeGreaterThanOrEqual(0.99);
}

/** Every chain call since the last check ran on the GPU (none fell back to the CPU). */
function ranOnGpu(): void {
  expect(spy.calls.length).toBeGreaterThan(0);
  expect(spy.calls.filter((c) => c !== 'gpu')).toEqual([]);
  spy.calls.length = 0;
}

describe('attacks on the webgpu backend', () => {
  adapterAvailableTest(device);

  test.skipIf(!webgpu)(
    'PGD (L∞ ε 0.3, 40 × 0.01): webgpu and wasm agree',
    async () => {
      const run = (b: typeof defaultBackend) =>
        withBackendAsync(b, () =>
          new PGD({ eps: 0.3, alpha: 0.01, steps: 40, seed: 2 }).run(new WhiteBox(model), x, y),
        );
      const gpu = await run(webgpu!);
      ranOnGpu();
      expectSame(gpu, await run(defaultBackend));
    },
    120_000,
  );

  test.skipIf(!webgpu)(
    'Square (ε 0.3, 1000 queries): webgpu and wasm agree, with identical query counts',
    async () => {
      const run = (b: typeof defaultBackend) =>
        withBackendAsync(b, () =>
          new Square({ eps: 0.3, maxQueries: 1000, seed: 2 }).run(new ScoreOracle(model), x, y),
        );
      const gpu = await run(webgpu!);
      ranOnGpu();
      const cpu = await run(defaultBackend);
      expectSame(gpu, cpu);
      expect(gpu.queries).toEqual(cpu.queries);
    },
    180_000,
  );
});

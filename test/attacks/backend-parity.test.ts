// The same attack gives the same results on the reference kernels and on the fast CPU backend (issue 6,
// item 5; webgpu against wasm is test/backend/webgpu/attack-parity.test.ts): PGD and Square on 50 images.
import { beforeAll, expect, test } from 'bun:test';
import { referenceBackend, withBackendAsync } from '../../src/backend/index.ts';
import type { Backend } from '../../src/tensor/backend.ts';
import { createWasmBackend } from '../../src/backend/wasm/index.ts';
import { PGD } from '../../src/attacks/pgd.ts';
import { Square } from '../../src/attacks/square.ts';
import { ScoreOracle, WhiteBox } from '../../src/attacks/target.ts';
import type { AttackResult } from '../../src/attacks/types.ts';
import type { Sequential } from '../../src/nn/sequential.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { committedModel, mnistSubset } from '../helpers/attack-data.ts';

let model: Sequential, x: Tensor, y: Tensor;
beforeAll(async () => {
  model = await committedModel('mnist-lenet5');
  ({ x, y } = await mnistSubset(50));
});

/** Same verdicts on (almost) every example, and adversarial inputs that agree to float32 rounding where both succeed. */
function expectSame(a: AttackResult, b: AttackResult): void {
  const agree = a.success.filter((s, i) => s === b.success[i]).length;
  expect(agree).toBeGreaterThanOrEqual(a.success.length - 1); // one example may sit on a rounding boundary
  expect(a.cleanCorrect).toEqual(b.cleanCorrect);
  // Sign steps amplify rounding (an entry whose gradient is ~0 may step the other way), so compare the share
  // of pixels that agree to float32 rounding rather than the largest difference.
  let same = 0;
  a.xAdv.data.forEach((v, i) => {
    if (Math.abs(v - b.xAdv.data[i]) <= 1e-5) same++;
  });
  console.log(`pixels agreeing: ${((100 * same) / a.xAdv.size).toFixed(3)}%`);
  expect(same / a.xAdv.size).toBeGreaterThanOrEqual(0.99);
}

/** The backend with every primitive call counted, to prove a run really used it (not the default). */
function counted(b: Backend): { backend: Backend; calls: () => number } {
  let n = 0;
  const backend = new Proxy(b, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      return typeof v === 'function'
        ? (...args: unknown[]) => {
            n++;
            return v.apply(target, args);
          }
        : v;
    },
  });
  return { backend, calls: () => n };
}

test('PGD (L∞ ε 0.3, 40 × 0.01): reference and wasm backends agree', async () => {
  const run = (b: Backend) =>
    withBackendAsync(b, () =>
      new PGD({ eps: 0.3, alpha: 0.01, steps: 40, seed: 2 }).run(new WhiteBox(model), x, y),
    );
  const reference = counted(referenceBackend);
  const ref = await run(reference.backend),
    fast = await run(createWasmBackend()!);
  // Every step's forward and backward ran on the reference kernels (withBackend would have switched back
  // at the first await and run most of it on the default backend).
  expect(reference.calls()).toBeGreaterThan(40 * 10);
  expectSame(ref, fast);
  expect(fast.success.filter(Boolean).length).toBe(ref.success.filter(Boolean).length);
}, 120_000);

test('Square (ε 0.3, 1000 queries): reference and wasm backends agree, with identical query counts', async () => {
  const run = (b: Backend) =>
    withBackendAsync(b, () =>
      new Square({ eps: 0.3, maxQueries: 1000, seed: 2 }).run(new ScoreOracle(model), x, y),
    );
  const reference = counted(referenceBackend);
  const ref = await run(reference.backend),
    fast = await run(createWasmBackend()!);
  expect(reference.calls()).toBeGreaterThan(100);
  expectSame(ref, fast);
  expect(fast.queries).toEqual(ref.queries);
}, 300_000); // the reference kernels take ~60 s here alone; a loaded machine needs more

// The worker pool computes what the in-process model computes: logits, combined parameter gradients and
// per-example input gradients, for batches that split unevenly; it fails clearly when misused or closed.
import { afterAll, describe, expect, test } from 'bun:test';
import { gradients, noGrad } from '../../src/autodiff/grad.ts';
import * as ops from '../../src/autodiff/ops.ts';
import { withBackend } from '../../src/backend/index.ts';
import { createWasmBackend } from '../../src/backend/wasm/index.ts';
import { architecture } from '../../src/nn/architectures.ts';
import { derivedHashSeeds, hashLayers, parseCompressions } from '../../src/nn/hashed-layers.ts';
import { initParams } from '../../src/nn/init.ts';
import { crossEntropyLoss } from '../../src/nn/losses.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { shardRanges, WorkerPool } from '../../src/parallel/pool.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { syntheticDataset } from '../../src/data/synthetic.ts';
import { fingerprint } from '../../src/hash/index.ts';

const wasm = createWasmBackend()!;
const pool = new WorkerPool({ size: 3 });
afterAll(() => pool.close());

const shape = [1, 28, 28] as const;
const data = syntheticDataset({
  count: 11,
  shape: [...shape] as [number, number, number],
  classes: 10,
  seed: 3,
});
const x = new Tensor([11, ...shape], data.images);
const y = new Tensor([11], Float32Array.from(data.labels));

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  expect(a.length).toBe(b.length);
  let diff = 0,
    scale = 1e-12;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  expect(diff / scale).toBeLessThan(tol);
}

for (const hashed of [false, true]) {
  describe(`WorkerPool on lenet5${hashed ? ' (hashed 1/8)' : ''}`, () => {
    let layers = architecture('lenet5', shape, 10);
    if (hashed) layers = hashLayers(layers, parseCompressions('1/8', 5), derivedHashSeeds(1, 5));
    const model = new Sequential(shape, layers, initParams(layers, 2));

    test('forward equals the in-process logits (11 rows over 3 workers)', async () => {
      const local = withBackend(wasm, () => noGrad(() => model.forward(x)));
      const got = await pool.forward(model, x);
      expect(got.shape).toEqual([11, 10]);
      close(got.data, local.data, 1e-6);
    });

    test('lossAndGradients equals the full-batch mean loss and gradients', async () => {
      const names = model.parameterNames();
      const local = withBackend(wasm, () =>
        gradients(
          () => crossEntropyLoss(model.forward(x), y),
          names.map((n) => model.params.get(n)!),
        ),
      );
      const got = await pool.lossAndGradients(model, x, y);
      expect(got.loss).toBeCloseTo(local.value.item(), 5);
      names.forEach((n, i) => close(got.grads.get(n)!.data, local.grads[i].data, 1e-5));
    });

    test('changed parameters reach the workers before the next call', async () => {
      const before = await pool.forward(model, x);
      const name = model.parameterNames().at(-1)!; // the last bias
      model.params.set(name, ops.add(model.params.get(name)!, 1));
      const after = await pool.forward(model, x);
      for (let i = 0; i < after.size; i++) expect(after.data[i]).toBeCloseTo(before.data[i] + 1, 4);
    });

    test('parameters changed during a call on fewer rows than workers still reach every worker', async () => {
      // One row: only one shard holds data; the other workers get an empty task that delivers the parameters.
      const name = model.parameterNames().at(-1)!;
      model.params.set(name, ops.add(model.params.get(name)!, 0.5));
      const one = await pool.forward(
        model,
        new Tensor([1, ...shape], x.data.slice(0, 784) as Float32Array),
      );
      expect(one.shape).toEqual([1, 10]);
      const g = await pool.lossAndGradients(
        model,
        new Tensor([1, ...shape], x.data.slice(0, 784) as Float32Array),
        new Tensor([1], y.data.slice(0, 1) as Float32Array),
      );
      expect(g.grads.size).toBe(model.parameterNames().length);
      // Every worker now computes with the new parameters: the 11-row batch (rows on all 3 workers) matches.
      const local = withBackend(wasm, () => noGrad(() => model.forward(x)));
      close((await pool.forward(model, x)).data, local.data, 1e-6);
    });

    test('inputGradients equals the per-example input gradient of the cross-entropy', async () => {
      const local = withBackend(wasm, () =>
        gradients(() => ops.sum(ops.crossEntropy(model.forward(x), y)), [x]),
      );
      const got = await pool.inputGradients(model, x, y);
      close(got.grad.data, local.grads[0].data, 1e-5);
      expect(got.loss).toBeCloseTo(local.value.item(), 4);
    });
  });
}

describe('WorkerPool contract', () => {
  test('defendedForward hands fingerprints over before its answer, equal to the in-process ones', async () => {
    const layers = architecture('lenet5', shape, 10);
    const model = new Sequential(shape, layers, initParams(layers, 2));
    const params = { pool: 2, step: 0.25, patch: 2, tables: 2, topK: 128, seed: 9 };
    const rows = () => ({ x: x.data.slice(0, 3 * 784) as Float32Array, n: 3, fingerprint: params });
    const want = [0, 1, 2].map((i) =>
      fingerprint(x.data.subarray(i * 784, (i + 1) * 784), shape, params),
    );
    const events: string[] = [];
    let got: Uint32Array[] = [];
    const r = pool
      .defendedForward(model, rows(), null, 1, (f) => {
        events.push('early');
        got = f;
      })
      .then((a) => (events.push('answer'), a));
    const answer = await r;
    expect(events).toEqual(['early', 'answer']);
    expect(got.map((f) => [...f])).toEqual(want.map((f) => [...f]));
    expect(want.every((f) => f.length > 0)).toBe(true);
    expect('fingerprints' in answer).toBe(false);
    // Without the callback the answer carries them, and the logits are the same either way.
    const whole = await pool.defendedForward(model, rows(), null, 2);
    if (!('logits' in whole) || !('logits' in answer)) throw new Error('expected logits');
    expect(whole.fingerprints!.map((f) => [...f])).toEqual(want.map((f) => [...f]));
    expect([...whole.logits]).toEqual([...answer.logits]);
  });

  test('shards cover the batch exactly, in order, without empty shards', () => {
    expect(shardRanges(11, 3)).toEqual([
      [0, 3],
      [3, 7],
      [7, 11],
    ]);
    expect(shardRanges(2, 4)).toEqual([
      [0, 1],
      [1, 2],
    ]);
    expect(shardRanges(0, 2)).toEqual([]);
  });

  test('a wrong input shape or label count is a clear error', async () => {
    const layers = architecture('mlp', shape, 10);
    const model = new Sequential(shape, layers, initParams(layers, 1));
    await expect(pool.forward(model, new Tensor([2, 3], new Float32Array(6)))).rejects.toThrow(
      'input must be f32 [N, 1, 28, 28]',
    );
    await expect(
      pool.lossAndGradients(model, x, new Tensor([3], new Float32Array(3))),
    ).rejects.toThrow('labels must be [11]');
  });

  test('size is validated; close() fails later calls instead of hanging', async () => {
    expect(() => new WorkerPool({ size: 0 })).toThrow('size must be an integer');
    const p = new WorkerPool({ size: 1 });
    const layers = architecture('mlp', shape, 10);
    const model = new Sequential(shape, layers, initParams(layers, 1));
    expect((await p.forward(model, x)).shape).toEqual([11, 10]);
    p.close();
    p.close(); // idempotent
    await expect(p.forward(model, x)).rejects.toThrow('WorkerPool: closed');
  });
});

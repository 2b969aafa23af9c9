// Adversarial training (src/nn/adversarial.ts): flag parsing, the ε ramp and one-cycle rate, adversarial
// examples inside the ball and independent of sharding, TRADES's loss against a direct computation, workers
// against one thread, and training that buys robustness on dense and hashed layers alike.
import { describe, expect, test } from 'bun:test';
import * as ops from '../../src/autodiff/ops.ts';
import { syntheticDataset } from '../../src/data/synthetic.ts';
import {
  adversarialExamples,
  adversarialLossGradients,
  parseAdversarial,
  pgdAccuracy,
  rampedEps,
  type AdversarialSpec,
} from '../../src/nn/adversarial.ts';
import { smallCnn } from '../../src/nn/architectures.ts';
import { gatherBatch, identityOrder } from '../../src/nn/batches.ts';
import { derivedHashSeeds, hashLayers } from '../../src/nn/hashed-layers.ts';
import { initParams } from '../../src/nn/init.ts';
import type { LayerSpec } from '../../src/nn/layer-spec.ts';
import { adam } from '../../src/nn/optimizers.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { learningRate, trainEpoch } from '../../src/nn/train.ts';
import { WorkerPool } from '../../src/parallel/pool.ts';
import { Tensor } from '../../src/tensor/tensor.ts';

const shape: [number, number, number] = [1, 12, 12];
const train = syntheticDataset({ count: 600, shape, classes: 4, seed: 5, split: 'train' });
const test_ = syntheticDataset({ count: 200, shape, classes: 4, seed: 5, split: 'test' });
const dense = smallCnn(shape, 4, [4, 8, 16]);
const hashed = hashLayers(dense, [1 / 4, 1 / 4, 1 / 4, 1 / 4], derivedHashSeeds(7, 4));

function batch(n: number, from = 0) {
  const order = identityOrder(test_.count);
  return gatherBatch(test_, order, from, n);
}

describe('parseAdversarial', () => {
  test('reads each method with its defaults', () => {
    expect(parseAdversarial('pgd:eps=0.3,steps=40,step=0.01')).toEqual({
      kind: 'pgd',
      eps: 0.3,
      steps: 40,
      step: 0.01,
    });
    expect(parseAdversarial('pgd:eps=0.3,steps=10')).toEqual({
      kind: 'pgd',
      eps: 0.3,
      steps: 10,
      step: 0.075,
    });
    expect(parseAdversarial('fgsm-rs:eps=0.3')).toEqual({
      kind: 'fgsm-rs',
      eps: 0.3,
      alpha: 0.375,
    });
    expect(parseAdversarial('fgsm-rs:eps=8/255,alpha=10/255')).toEqual({
      kind: 'fgsm-rs',
      eps: 8 / 255,
      alpha: 10 / 255,
    });
    const t = parseAdversarial('trades:eps=0.1,steps=10,beta=3');
    expect(t).toEqual({ kind: 'trades', eps: 0.1, steps: 10, step: 0.025, beta: 3 });
  });
  test('names what is wrong', () => {
    expect(() => parseAdversarial('fgsm:eps=0.3')).toThrow(/unknown method 'fgsm'/);
    expect(() => parseAdversarial('pgd:steps=10')).toThrow(/eps is required/);
    expect(() => parseAdversarial('pgd:eps=0.3,alpha=0.1')).toThrow(
      /unknown setting 'alpha'.*eps, steps, step/,
    );
    expect(() => parseAdversarial('pgd:eps=abc')).toThrow(/eps must be a number/);
    expect(() => parseAdversarial('pgd:eps=8/0')).toThrow(/eps must be a number, got '8\/0'/);
    expect(() => parseAdversarial('pgd:eps=8/x')).toThrow(/eps must be a number/);
    expect(() => parseAdversarial('pgd:eps=2')).toThrow(/eps must be in \(0, 1\]/);
    expect(() => parseAdversarial('trades:eps=0.3,steps=2.5')).toThrow(/steps must be an integer/);
  });
});

describe('schedules', () => {
  test('the ε ramp grows linearly to ε, then holds', () => {
    expect(rampedEps(0.3, 0, 100)).toBeCloseTo(0.003, 10);
    expect(rampedEps(0.3, 49, 100)).toBeCloseTo(0.15, 10);
    expect(rampedEps(0.3, 99, 100)).toBeCloseTo(0.3, 10);
    expect(rampedEps(0.3, 500, 100)).toBe(0.3);
    expect(rampedEps(0.3, 0, 0)).toBe(0.3);
  });
  test('one-cycle rises to lr0 at 2/5 of the run and falls to 0', () => {
    const T = 1000,
      lr = (t: number) => learningRate(0.01, 'one-cycle', t, T);
    expect(lr(0)).toBeGreaterThan(0);
    expect(lr(0)).toBeLessThan(0.0001);
    expect(lr(399)).toBeCloseTo(0.01, 10);
    expect(lr(700)).toBeCloseTo(0.005, 4);
    expect(lr(999)).toBeLessThan(0.0001);
    for (let t = 1; t < 400; t++) expect(lr(t)).toBeGreaterThan(lr(t - 1));
    for (let t = 401; t < T; t++) expect(lr(t)).toBeLessThan(lr(t - 1));
  });
});

describe('adversarial examples', () => {
  const model = new Sequential(shape, dense, initParams(dense, 1));
  const { x, y } = batch(16);
  const key = { seed: 3, epoch: 2, step: 5, rowOffset: 0 };
  const specs: AdversarialSpec[] = [
    parseAdversarial('pgd:eps=0.2,steps=5'),
    parseAdversarial('fgsm-rs:eps=0.2'),
    parseAdversarial('trades:eps=0.2,steps=5'),
  ];
  for (const spec of specs) {
    test(`${spec.kind}: inside the ε-ball and [0, 1], at the ramped radius`, () => {
      for (const eps of [0.2, 0.05]) {
        const adv = adversarialExamples(model, x, y, spec, eps, key).data as Float32Array;
        let moved = 0;
        adv.forEach((v, j) => {
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(1);
          expect(Math.abs(v - (x.data[j] as number))).toBeLessThanOrEqual(eps + 1e-6);
          if (Math.abs(v - (x.data[j] as number)) > 1e-4) moved++;
        });
        expect(moved).toBeGreaterThan(adv.length / 4);
      }
    });
    test(`${spec.kind}: the same rows give the same examples whether computed whole or in shards`, () => {
      const whole = adversarialExamples(model, x, y, spec, 0.2, key).data as Float32Array;
      const d = x.size / 16;
      const a = batch(6),
        b = batch(10, 6);
      const first = adversarialExamples(model, a.x, a.y, spec, 0.2, key).data as Float32Array;
      const second = adversarialExamples(model, b.x, b.y, spec, 0.2, { ...key, rowOffset: 6 })
        .data as Float32Array;
      expect(Array.from(first)).toEqual(Array.from(whole.subarray(0, 6 * d)));
      expect(Array.from(second)).toEqual(Array.from(whole.subarray(6 * d)));
      // Another batch position draws other starts.
      const moved = adversarialExamples(model, x, y, spec, 0.2, { ...key, step: 6 })
        .data as Float32Array;
      expect(Array.from(moved)).not.toEqual(Array.from(whole));
    });
  }
  test('PGD raises the loss above the clean loss and above a random point of the ball', () => {
    const ce = (t: Tensor) => ops.mean(ops.crossEntropy(model.forward(t), y)).data[0] as number;
    const pgd = adversarialExamples(
      model,
      x,
      y,
      parseAdversarial('pgd:eps=0.2,steps=10'),
      0.2,
      key,
    );
    const noise = adversarialExamples(
      model,
      x,
      y,
      parseAdversarial('pgd:eps=0.2,steps=1,step=0.000001'),
      0.2,
      key,
    );
    expect(ce(pgd)).toBeGreaterThan(ce(x));
    expect(ce(pgd)).toBeGreaterThan(ce(noise));
  });
});

describe('TRADES loss', () => {
  test('equals CE(f(x), y) + β·KL(f(x) ‖ f(x′)) computed directly, and its gradients are finite', () => {
    const model = new Sequential(shape, dense, initParams(dense, 2));
    const { x, y } = batch(8);
    const spec = parseAdversarial('trades:eps=0.2,steps=3,beta=4') as Extract<
      AdversarialSpec,
      { kind: 'trades' }
    >;
    const key = { seed: 1, epoch: 0, step: 0, rowOffset: 0 };
    const r = adversarialLossGradients(model, x, y, spec, 0.2, key);
    const xAdv = adversarialExamples(model, x, y, spec, 0.2, key);
    const zc = model.forward(x).data as Float32Array,
      za = model.forward(xAdv).data as Float32Array;
    const k = 4,
      logSm = (z: Float32Array, i: number) => {
        const row = Array.from(z.subarray(i * k, (i + 1) * k)),
          m = Math.max(...row);
        const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
        return row.map((v) => v - lse);
      };
    let ce = 0,
      kl = 0;
    for (let i = 0; i < 8; i++) {
      const lc = logSm(zc, i),
        la = logSm(za, i);
      ce -= lc[y.data[i] as number];
      kl += lc.reduce((s, v, j) => s + Math.exp(v) * (v - la[j]), 0);
    }
    expect(r.loss).toBeCloseTo(ce / 8 + (4 * kl) / 8, 4);
    for (const g of r.grads.values())
      for (const v of g.data as Float32Array) expect(Number.isFinite(v)).toBe(true);
  });
});

describe('adversarial training', () => {
  test("workers give the single thread's loss and gradients (examples independent of the pool size)", async () => {
    const model = new Sequential(shape, hashed, initParams(hashed, 3));
    const { x, y } = batch(20);
    const spec = parseAdversarial('pgd:eps=0.15,steps=3');
    const key = { seed: 9, epoch: 1, step: 2 };
    const local = adversarialLossGradients(model, x, y, spec, 0.15, { ...key, rowOffset: 0 });
    const pool = new WorkerPool({ size: 2 });
    try {
      const shared = await pool.adversarialLossAndGradients(model, x, y, spec, 0.15, key);
      expect(shared.loss).toBeCloseTo(local.loss, 5);
      expect(shared.correct).toBe(local.correct);
      for (const [name, g] of local.grads) {
        const h = shared.grads.get(name)!.data as Float32Array;
        (g.data as Float32Array).forEach((v, j) =>
          expect(Math.abs(v - h[j])).toBeLessThan(1e-5 + 1e-4 * Math.abs(v)),
        );
      }
    } finally {
      pool.close();
    }
  });

  for (const [name, layers] of [
    ['dense', dense],
    ['hashed', hashed],
  ] as const) {
    // With the ε ramp, as the committed models train: full ε from the first step stalls this small net.
    test(`PGD training buys robustness that clean training does not (${name} layers)`, async () => {
      const fit = async (spec?: AdversarialSpec) => {
        const model = new Sequential(
          shape,
          layers as LayerSpec[],
          initParams(layers as LayerSpec[], 4),
        );
        const opt = adam({ lr: 3e-3 });
        for (let e = 0; e < 6; e++)
          await trainEpoch(
            model,
            opt,
            train,
            {
              epochs: 6,
              batchSize: 32,
              seed: 4,
              schedule: 'constant',
              ...(spec ? { adversarial: spec, epsRampEpochs: 2 } : {}),
            },
            e,
          );
        return model;
      };
      const { x, y } = gatherBatch(test_, identityOrder(test_.count), 0, test_.count);
      const clean = await fit();
      const robust = await fit(parseAdversarial('pgd:eps=0.15,steps=5'));
      const rClean = pgdAccuracy(clean, x, y, 0.15, 10, 1);
      const rRobust = pgdAccuracy(robust, x, y, 0.15, 10, 1);
      expect(rRobust).toBeGreaterThan(rClean + 0.2);
    }, 60_000);
  }
});

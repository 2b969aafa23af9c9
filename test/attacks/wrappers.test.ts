// The attack wrappers against the defenses they undo, on 200 seeded MNIST test images of mnist-lenet5:
// BPDA through a quantization stage, EOT against a randomized model, LogitRescale against logit scaling.
import { beforeAll, describe, expect, test } from 'bun:test';
import { gradients, noGrad } from '../../src/autodiff/grad.ts';
import * as ops from '../../src/autodiff/ops.ts';
import { BPDA } from '../../src/attacks/bpda.ts';
import { EOT } from '../../src/attacks/eot.ts';
import { attackLoss } from '../../src/attacks/losses.ts';
import { PGD } from '../../src/attacks/pgd.ts';
import { LogitRescale } from '../../src/attacks/rescale.ts';
import { LabelOracle, WhiteBox, type Differentiable } from '../../src/attacks/target.ts';
import { successRate, type AttackResult } from '../../src/attacks/types.ts';
import { deriveStream, normal, uniform } from '../../src/hash/rng.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { committedModel, mnistSubset } from '../helpers/attack-data.ts';

let model: Sequential;
let x: Tensor, y: Tensor;
let labels: number[];
beforeAll(async () => {
  model = await committedModel('mnist-lenet5');
  ({ x, y } = await mnistSubset(200));
  labels = Array.from(y.data, (v) => Math.round(v));
});

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

/** Share of exactly-zero entries of a gradient, and share of rows whose whole gradient is exactly zero. */
function zeroShares(g: Tensor): { entries: number; rows: number } {
  const n = g.shape[0],
    d = g.size / n;
  let zeros = 0,
    zeroRows = 0;
  for (let r = 0; r < n; r++) {
    let rowZeros = 0;
    for (let i = r * d; i < (r + 1) * d; i++) if (g.data[i] === 0) rowZeros++;
    zeros += rowZeros;
    if (rowZeros === d) zeroRows++;
  }
  return { entries: zeros / g.size, rows: zeroRows / n };
}

/** 4-level quantization round(4x)/4 on [0, 1], built from autodiff ops: a sum of sign steps (zero gradient). */
function quantize(x: Tensor): Tensor {
  let q: Tensor | null = null;
  for (let k = 1; k <= 4; k++) {
    const step = ops.mul(ops.add(ops.sign(ops.sub(x, (k - 0.5) / 4)), 1), 1 / 8); // 0 below the threshold, 1/4 above
    q = q ? ops.add(q, step) : step;
  }
  return q!;
}

/** The quantized model differentiated honestly, end to end through the autodiff (what BPDA replaces). */
function honestQuantized(m: Sequential): Differentiable {
  return {
    inputShape: m.inputShape,
    forward: (v) => m.forward(quantize(v)),
    lossGradients: (v, loss) => {
      let logits = v;
      const { value, grads } = gradients(() => loss((logits = m.forward(quantize(v)))), [v]);
      return { loss: value.item(), logits, dx: grads[0] };
    },
  };
}

/**
 * Test fixture: a randomized model. Every call draws, from (seed, call index), a logit factor per row in
 * [1, fmax] (softmax saturates for most draws: float32 CE gradients vanish) and Gaussian input noise σ.
 */
class RandomizedLogits implements Differentiable {
  readonly inputShape: readonly number[];
  private calls = 0;
  constructor(
    private readonly m: Sequential,
    private readonly seed: number,
    private readonly sigma = 0.02,
    private readonly fmax = 100,
  ) {
    this.inputShape = m.inputShape;
  }
  private draw(v: Tensor): { noisy: Tensor; factor: Tensor } {
    const stream = deriveStream(this.seed, this.calls++);
    const noisy = new Float32Array(v.size),
      factor = new Float32Array(v.shape[0]);
    for (let i = 0; i < v.size; i++) noisy[i] = v.data[i] + this.sigma * normal(stream, i);
    for (let r = 0; r < factor.length; r++)
      factor[r] = 1 + (this.fmax - 1) * uniform(deriveStream(stream, 1), r);
    return { noisy: new Tensor(v.shape, noisy), factor: new Tensor([factor.length, 1], factor) };
  }
  forward(v: Tensor): Tensor {
    const { noisy, factor } = this.draw(v);
    return ops.mul(this.m.forward(noisy), factor);
  }
  lossGradients(v: Tensor, loss: (logits: Tensor) => Tensor, want: { input?: boolean }) {
    const { noisy, factor } = this.draw(v);
    const r = this.m.lossGradients(noisy, (z) => loss(ops.mul(z, factor)), { input: want.input });
    return { loss: r.loss, logits: noGrad(() => ops.mul(r.logits, factor)), dx: r.dx };
  }
}

/** docs/design.md §5's verdict against a randomized model: success when most of 10 fresh queries misclassify. */
async function majorityOf10(m: Differentiable, r: AttackResult): Promise<number> {
  const oracle = new LabelOracle(m);
  const wrong = labels.map(() => 0);
  for (let k = 0; k < 10; k++)
    (await oracle.predict(r.xAdv)).forEach((p, i) => {
      if (p !== labels[i]) wrong[i]++;
    });
  const rows = r.cleanCorrect.flatMap((c, i) => (c ? [i] : []));
  return rows.filter((i) => wrong[i] > 5).length / rows.length;
}

/** The model with its last layer scaled by α (GI `scale`: a real change of the computation). */
function scaled(m: Sequential, alpha: number): Sequential {
  const last = [...m.layers].reverse().find((l) => l.type === 'dense')!;
  if (last.type !== 'dense') throw new Error('no dense layer');
  const params = new Map(m.params);
  for (const name of [last.weight, last.bias])
    params.set(
      name,
      noGrad(() => ops.mul(m.params.get(name)!, alpha)),
    );
  return new Sequential(m.inputShape, m.layers, params);
}

describe('BPDA', () => {
  test('quantization gives exactly-zero autodiff gradients; PGD through BPDA breaks ≥ 90%', async () => {
    const honest = honestQuantized(model);
    const g = await new WhiteBox(honest).gradient(x, (z) => attackLoss('ce', z, labels));
    expect(zeroShares(g.grad).entries).toBe(1);

    const pgd = () => new PGD({ eps: 0.3, alpha: 0.01, steps: 40, seed: 1 });
    const bpda = new BPDA({ stage: quantize, model });
    // Same forward: BPDA changes only the backward pass.
    expect(Array.from(noGrad(() => bpda.forward(x)).data)).toEqual(
      Array.from(noGrad(() => honest.forward(x)).data),
    );
    const through = await pgd().run(new WhiteBox(bpda), x, y);
    const naive = await pgd().run(new WhiteBox(honest), x, y);
    const clean = through.cleanCorrect.filter(Boolean).length / x.shape[0];
    console.log(
      `BPDA (4-level quantized mnist-lenet5, clean ${pct(clean)}, 200 images): zero-gradient share ${pct(zeroShares(g.grad).entries)}; PGD through the autodiff ${pct(successRate(naive))}, PGD through BPDA ${pct(successRate(through))}`,
    );
    expect(successRate(through)).toBeGreaterThanOrEqual(0.9);
    expect(successRate(through)).toBeGreaterThan(successRate(naive));
  }, 60_000);

  test('an approximation g replaces the stage on the backward pass; parameter gradients are refused', () => {
    const xs = x.reshape(x.shape);
    const loss = (z: Tensor) => attackLoss('ce', z, labels);
    const identity = new BPDA({ stage: quantize, model }).lossGradients(xs, loss, { input: true });
    const doubled = new BPDA({
      stage: quantize,
      model,
      approximation: (v) => ops.mul(v, 2),
    }).lossGradients(xs, loss, { input: true });
    doubled.dx!.data.forEach((v, i) => expect(v).toBeCloseTo(2 * identity.dx!.data[i], 6));
    expect(() =>
      new BPDA({ stage: quantize, model }).lossGradients(xs, loss, { params: true }),
    ).toThrow('parameter gradients');
    expect(() =>
      new BPDA({ stage: (v) => v.reshape([v.shape[0], v.size / v.shape[0]]), model }).forward(xs),
    ).toThrow('stage changed the shape');
  });
});

describe('EOT', () => {
  test('against per-call random logit scaling and input noise, EOT(8)-PGD ≥ plain PGD', async () => {
    const pgd = () => new PGD({ eps: 0.3, alpha: 0.01, steps: 40, seed: 1 });
    const plain = await pgd().run(new WhiteBox(new RandomizedLogits(model, 1)), x, y);
    const inner = new WhiteBox(new RandomizedLogits(model, 1));
    const eot = new EOT(inner, { n: 8 });
    const averaged = await pgd().run(eot, x, y);
    // Judged by the same fresh draws (seed 999), most of 10 must misclassify.
    const rPlain = await majorityOf10(new RandomizedLogits(model, 999), plain);
    const rEot = await majorityOf10(new RandomizedLogits(model, 999), averaged);
    console.log(
      `EOT (mnist-lenet5 × U[1,100] per call, σ 0.02 noise, 200 images, most of 10): PGD ${pct(rPlain)}, EOT(8)-PGD ${pct(rEot)}; single-query verdicts ${pct(successRate(plain))} / ${pct(successRate(averaged))}`,
    );
    expect(rEot).toBeGreaterThanOrEqual(rPlain);
    expect(rEot).toBeGreaterThanOrEqual(0.8);
    // Counting: the inner target saw exactly n evaluations per counted row-call of the attack.
    expect(eot.queries).toBe(8 * averaged.queries.reduce((a, b) => a + b, 0));
  }, 60_000);

  test('averages n draws of scores and gradients; keeps the inner kind', async () => {
    const xs = x.reshape(x.shape);
    let calls = 0;
    const ramp: Differentiable = {
      inputShape: model.inputShape,
      forward: () => new Tensor([xs.shape[0], 2], new Float32Array(xs.shape[0] * 2).fill(++calls)),
      lossGradients: (v) => ({
        loss: ++calls,
        logits: new Tensor([v.shape[0], 2], new Float32Array(v.shape[0] * 2).fill(calls)),
        dx: new Tensor(v.shape, new Float32Array(v.size).fill(calls)),
      }),
    };
    const eot = new EOT(new WhiteBox(ramp), { n: 4 });
    expect(eot.kind).toBe('white-box');
    expect((await eot.scores(xs)).data[0]).toBe(2.5); // mean of 1..4
    const g = await eot.gradient(xs, (z) => ops.sum(z));
    expect([g.loss, g.logits.data[0], g.grad.data[0]]).toEqual([6.5, 6.5, 6.5]); // mean of 5..8
    expect(eot.queries).toBe(8 * xs.shape[0]);
    expect(() => new EOT(new WhiteBox(ramp), { n: 0 })).toThrow('n must be');
  });
});

describe('LogitRescale', () => {
  test('logits × 1e4 saturate the softmax (exactly-zero CE gradients); PGD through LogitRescale(1e4) recovers', async () => {
    const hard = scaled(model, 1e4);
    const ce = (z: Tensor) => attackLoss('ce', z, labels);
    const g0 = zeroShares((await new WhiteBox(model).gradient(x, ce)).grad);
    const g1 = zeroShares((await new WhiteBox(hard).gradient(x, ce)).grad);
    const rescaled = new LogitRescale(hard, 1e4);
    const g2 = zeroShares((await new WhiteBox(rescaled).gradient(x, ce)).grad);
    const pgd = () => new PGD({ eps: 0.3, alpha: 0.01, steps: 40, loss: 'ce', seed: 1 });
    const masked = await pgd().run(new WhiteBox(hard), x, y);
    const undone = await pgd().run(new WhiteBox(rescaled), x, y);
    console.log(
      `LogitRescale (mnist-lenet5, 200 images): all-zero gradient rows ${pct(g0.rows)} plain, ${pct(g1.rows)} at ×1e4, ${pct(g2.rows)} rescaled (zero entries ${pct(g0.entries)} / ${pct(g1.entries)} / ${pct(g2.entries)}); PGD-ce ${pct(successRate(masked))} at ×1e4, ${pct(successRate(undone))} through LogitRescale(1e4)`,
    );
    expect(g1.rows).toBeGreaterThan(0.9);
    expect(g2.rows).toBeLessThan(0.05);
    expect(successRate(undone)).toBeGreaterThanOrEqual(0.99);
    expect(successRate(masked)).toBeLessThan(successRate(undone));
    // Predictions are unchanged by the division.
    expect(Array.from(noGrad(() => ops.argmax(rescaled.forward(x), 1)).data)).toEqual(
      Array.from(hard.predict(x)),
    );
  }, 60_000);
});

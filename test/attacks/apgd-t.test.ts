// APGD-T (targeted APGD, Croce & Hein 2020): the targeted DLR loss and the target classes on hand-made logits;
// on the undefended mnist-lenet5 (20 seeded test images) the result stays inside ε and [0, 1], its success
// flags are a fresh prediction's, a seed reproduces it, and the loss pulls the logits toward the target;
// a 5-class model runs 4 targets.
import { beforeAll, describe, expect, test } from 'bun:test';
import { noGrad } from '../../src/autodiff/grad.ts';
import { APGDT, targetedDlr, topWrongClasses } from '../../src/attacks/apgd-t.ts';
import { APGD } from '../../src/attacks/apgd.ts';
import { LabelOracle, WhiteBox, argmaxRows } from '../../src/attacks/target.ts';
import { successRate, type AttackResult } from '../../src/attacks/types.ts';
import { uniform } from '../../src/hash/rng.ts';
import { mlp } from '../../src/nn/architectures.ts';
import { initParams } from '../../src/nn/init.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { committedModel, mnistSubset } from '../helpers/attack-data.ts';

let model: Sequential;
let x: Tensor, y: Tensor;
beforeAll(async () => {
  model = await committedModel('mnist-lenet5');
  ({ x, y } = await mnistSubset(20));
});

function expectInBudget(r: AttackResult, x: Tensor, eps: number): void {
  expect(r.xAdv.shape).toEqual(x.shape);
  for (const v of r.xAdv.data) expect(v >= 0 && v <= 1).toBe(true);
  let worst = 0;
  for (let i = 0; i < x.size; i++) worst = Math.max(worst, Math.abs(r.xAdv.data[i] - x.data[i]));
  expect(worst).toBeLessThanOrEqual(eps + 1e-6);
  for (const n of r.norms.linf) expect(n).toBeLessThanOrEqual(eps + 1e-6);
}

/** Success must be what a fresh prediction of xAdv says (prediction ≠ label). */
function expectFreshPrediction(r: AttackResult, m: Sequential, y: Tensor): void {
  const pred = argmaxRows(noGrad(() => m.forward(r.xAdv)));
  expect(r.predictions).toEqual(pred);
  expect(r.success).toEqual(pred.map((p, i) => p !== Math.round(y.data[i])));
}

const logitsOf = (m: Sequential, xs: Tensor) => noGrad(() => m.forward(xs));

describe('targeted DLR and the target classes', () => {
  test('targets: the wrong classes by descending clean logit, ties to the lowest index, at most K − 1', () => {
    const z = new Tensor([2, 5], Float32Array.from([0.1, 3, 2, 2, -1, /* */ 5, 4, 3, 2, 1]));
    expect(topWrongClasses(z, [1, 0], 9)).toEqual([
      [2, 3, 0, 4],
      [1, 2, 3, 4],
    ]);
    expect(topWrongClasses(z, [1, 0], 2)).toEqual([
      [2, 3],
      [1, 2],
    ]);
  });

  test('loss value −(z_y − z_t)/(z_π1 − (z_π3 + z_π4)/2 + 1e-12) per row, summed; raising z_t raises it', () => {
    const rows = [
      [1, 4, 2, 0.5, -1],
      [3, -2, 0, 1, 2],
    ];
    const z = new Tensor([2, 5], Float32Array.from(rows.flat()));
    const labels = [1, 0],
      targets = [2, 4];
    const expected = (r: number[], yv: number, t: number) => {
      const s = [...r].sort((a, b) => b - a);
      return -(r[yv] - r[t]) / (s[0] - (s[2] + s[3]) / 2 + 1e-12);
    };
    // Row 0: −(4 − 2)/(4 − (1 + 0.5)/2) = −2/3.25; row 1: −(3 − 2)/(3 − (1 + 0)/2) = −1/2.5.
    expect(expected(rows[0], 1, 2)).toBeCloseTo(-2 / 3.25, 12);
    const v = noGrad(() => targetedDlr(z, labels, targets)).item();
    expect(v).toBeCloseTo(-2 / 3.25 - 1 / 2.5, 6);
    const bumped = rows.map((r, i) => r.map((u, j) => (j === targets[i] ? u + 0.1 : u)));
    const after = noGrad(() =>
      targetedDlr(new Tensor([2, 5], Float32Array.from(bumped.flat())), labels, targets),
    ).item();
    expect(after).toBeGreaterThan(v);
    // Invariant to shifting and scaling the logits.
    const scaled = noGrad(() =>
      targetedDlr(
        new Tensor([2, 5], Float32Array.from(rows.flat().map((u) => 7 * u + 3))),
        labels,
        targets,
      ),
    ).item();
    expect(scaled).toBeCloseTo(v, 5);
    expect(() => targetedDlr(new Tensor([1, 3], Float32Array.from([1, 2, 3])), [0], [1])).toThrow(
      'at least 4 classes',
    );
  });
});

describe('APGD-T on mnist-lenet5 (20 images)', () => {
  test('ε 0.1: inside ε and [0, 1], success = a fresh prediction, same seed → identical, ≥ APGD-DLR', async () => {
    const t0 = performance.now();
    const attack = new APGDT({ eps: 0.1, seed: 2 });
    expect(attack.name).toBe('APGD-T(dlr)');
    const a = await attack.run(new WhiteBox(model), x, y);
    const b = await new APGDT({ eps: 0.1, seed: 2 }).run(new WhiteBox(model), x, y);
    expectInBudget(a, x, 0.1);
    expectFreshPrediction(a, model, y);
    expect(Array.from(b.xAdv.data)).toEqual(Array.from(a.xAdv.data));
    expect(b.queries).toEqual(a.queries);
    expect(b.success).toEqual(a.success);
    // clean check + clean logits + at most 9 runs × 101 gradients + final check.
    for (const q of a.queries) expect(q).toBeLessThanOrEqual(2 + 9 * 101 + 1);
    const dlr = await new APGD({ eps: 0.1, loss: 'dlr', seed: 2 }).run(new WhiteBox(model), x, y);
    expect(successRate(a)).toBeGreaterThanOrEqual(successRate(dlr));
    // Something must survive at ε 0.1 for the later targets to have run at all.
    expect(Math.max(...a.queries)).toBe(2 + 9 * 101 + 1);
    console.log(
      `APGD-T ε 0.1, 20 images: ${(100 * successRate(a)).toFixed(1)}% (APGD-DLR ${(100 * successRate(dlr)).toFixed(1)}%), ${((performance.now() - t0) / 1000).toFixed(1)} s for 3 runs`,
    );
  }, 60_000);

  test('one target: every clean-correct image ends with z_y − z_t below its clean value', async () => {
    const eps = 0.05;
    const r = await new APGDT({ eps, targets: 1, seed: 1 }).run(new WhiteBox(model), x, y);
    expectInBudget(r, x, eps);
    const labels = Array.from(y.data, Math.round);
    const clean = logitsOf(model, x),
      adv = logitsOf(model, r.xAdv);
    const t = topWrongClasses(clean, labels, 1).map((c) => c[0]);
    const gap = (z: Tensor, i: number) => z.data[i * 10 + labels[i]] - z.data[i * 10 + t[i]];
    const rows = labels.map((_, i) => i).filter((i) => r.cleanCorrect[i]);
    expect(rows.length).toBeGreaterThan(15);
    for (const i of rows) expect(gap(adv, i)).toBeLessThan(gap(clean, i));
    const mean = (z: Tensor) => rows.reduce((s, i) => s + gap(z, i), 0) / rows.length;
    console.log(
      `APGD-T one target, ε ${eps}: mean z_y − z_t ${mean(clean).toFixed(2)} → ${mean(adv).toFixed(2)}, success ${(100 * successRate(r)).toFixed(1)}%`,
    );
  }, 60_000);

  test('a 5-class model runs 4 targets; 3 classes and label-only targets are refused', async () => {
    const layers = mlp([1, 6, 6], 5, [12]);
    const small = new Sequential([1, 6, 6], layers, initParams(layers, 1));
    const xs = new Tensor(
      [4, 1, 6, 6],
      Float32Array.from({ length: 4 * 36 }, (_, i) => uniform(7, i)),
    );
    const ys = new Tensor([4], Float32Array.from(argmaxRows(logitsOf(small, xs))));
    // ε tiny: nothing breaks, so every image runs every target to the end: 2 + 4 × (steps + 1) + 1 queries.
    const r = await new APGDT({ eps: 1e-6, steps: 5 }).run(new WhiteBox(small), xs, ys);
    expect(r.success).toEqual([false, false, false, false]);
    expect(r.queries).toEqual([27, 27, 27, 27]);
    const three = mlp([1, 6, 6], 3, [12]);
    const tiny = new Sequential([1, 6, 6], three, initParams(three, 1));
    const y3 = new Tensor([4], Float32Array.from(argmaxRows(logitsOf(tiny, xs))));
    await expect(new APGDT({ eps: 0.1, steps: 2 }).run(new WhiteBox(tiny), xs, y3)).rejects.toThrow(
      'at least 4 classes',
    );
    await expect(new APGDT().run(new LabelOracle(model), x, y)).rejects.toThrow(
      'needs a white-box target',
    );
  }, 60_000);
});

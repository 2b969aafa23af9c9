// PGD / BIM / FGSM on the undefended mnist-lenet5 (500 seeded test images, MNIST L∞ ε 0.3, 40 × 0.01) and
// the Carlini et al. checklist: inside the budget and [0, 1], monotone in ε, iterative ≥ single-step per
// example, unbounded ε → 100%, same seed → same result.
import { beforeAll, describe, expect, test } from 'bun:test';
import { BIM } from '../../src/attacks/bim.ts';
import { FGSM } from '../../src/attacks/fgsm.ts';
import { PGD } from '../../src/attacks/pgd.ts';
import { LabelOracle, WhiteBox } from '../../src/attacks/target.ts';
import { successRate, type AttackResult } from '../../src/attacks/types.ts';
import type { Sequential } from '../../src/nn/sequential.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { committedModel, mnistSubset } from '../helpers/attack-data.ts';

let model: Sequential;
let x: Tensor, y: Tensor;
beforeAll(async () => {
  model = await committedModel('mnist-lenet5');
  ({ x, y } = await mnistSubset(500));
});

function expectInBudget(r: AttackResult, x: Tensor, norm: 'linf' | 'l2', eps: number): void {
  for (const v of r.xAdv.data) expect(v >= 0 && v <= 1).toBe(true);
  const norms = norm === 'linf' ? r.norms.linf : r.norms.l2;
  for (const n of norms) expect(n).toBeLessThanOrEqual(eps * (1 + 1e-6) + 1e-6);
  expect(r.xAdv.shape).toEqual(x.shape);
}

describe('PGD on mnist-lenet5 (500 images)', () => {
  test('L∞ ε 0.3, 40 × 0.01: success ≥ 99%, inside the budget; iterative ≥ single-step per example', async () => {
    const pgd = await new PGD({ eps: 0.3, alpha: 0.01, steps: 40, seed: 1 }).run(
      new WhiteBox(model),
      x,
      y,
    );
    expectInBudget(pgd, x, 'linf', 0.3);
    expect(successRate(pgd)).toBeGreaterThanOrEqual(0.99);
    const fgsm = await new FGSM({ eps: 0.3 }).run(new WhiteBox(model), x, y);
    expectInBudget(fgsm, x, 'linf', 0.3);
    const bim = await new BIM({ eps: 0.3, alpha: 0.01, steps: 40 }).run(new WhiteBox(model), x, y);
    // PGD keeps the first misclassifying iterate, so any example one step breaks, 40 steps break too.
    fgsm.success.forEach((s, i) => {
      if (s && fgsm.cleanCorrect[i]) expect(bim.success[i]).toBe(true);
    });
    expect(successRate(bim)).toBeGreaterThanOrEqual(successRate(fgsm));
    console.log(
      `mnist-lenet5 500 images: FGSM ${(100 * successRate(fgsm)).toFixed(1)}%, BIM ${(100 * successRate(bim)).toFixed(1)}%, PGD ${(100 * successRate(pgd)).toFixed(1)}%`,
    );
  }, 120_000);

  test('success is monotone in ε and unbounded ε reaches 100%', async () => {
    const sub = { x: x.reshape(x.shape), y };
    const rates: number[] = [];
    for (const eps of [0.05, 0.1, 0.2, 0.3]) {
      const r = await new PGD({ eps, alpha: eps / 10, steps: 20, randomStart: false }).run(
        new WhiteBox(model),
        sub.x,
        sub.y,
      );
      expectInBudget(r, x, 'linf', eps);
      rates.push(successRate(r));
    }
    for (let i = 1; i < rates.length; i++) expect(rates[i]).toBeGreaterThanOrEqual(rates[i - 1]);
    const unbounded = await new PGD({
      eps: Infinity,
      alpha: 0.05,
      steps: 50,
      randomStart: false,
    }).run(new WhiteBox(model), x, y);
    expect(successRate(unbounded)).toBe(1);
  }, 120_000);

  test('L2 PGD stays inside its ball; the same seed gives identical results', async () => {
    const a = await new PGD({ norm: 'l2', eps: 2, steps: 20, restarts: 2, seed: 7 }).run(
      new WhiteBox(model),
      x,
      y,
    );
    expectInBudget(a, x, 'l2', 2);
    const b = await new PGD({ norm: 'l2', eps: 2, steps: 20, restarts: 2, seed: 7 }).run(
      new WhiteBox(model),
      x,
      y,
    );
    expect(Array.from(b.xAdv.data)).toEqual(Array.from(a.xAdv.data));
    expect(b.queries).toEqual(a.queries);
  }, 120_000);

  test('every loss runs and succeeds; a label-only target is refused clearly', async () => {
    for (const loss of ['cw', 'dlr', 'ce-rescaled'] as const) {
      const r = await new PGD({ eps: 0.3, steps: 40, loss, temperature: 10 }).run(
        new WhiteBox(model),
        x,
        y,
      );
      expect(successRate(r)).toBeGreaterThanOrEqual(0.99);
    }
    await expect(new PGD().run(new LabelOracle(model), x, y)).rejects.toThrow(
      'needs a white-box target',
    );
  }, 120_000);
});

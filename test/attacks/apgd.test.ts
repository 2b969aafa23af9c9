// APGD-CE and APGD-DLR (Croce & Hein 2020) on the undefended mnist-lenet5 (500 seeded test images, L∞ ε 0.3,
// 100 iterations): success ≥ 99%, per example ≥ FGSM, inside ε and [0, 1], the paper's checkpoints, and the
// same seed giving the same result where the step-size schedule is exercised (ε 0.1).
import { beforeAll, describe, expect, test } from 'bun:test';
import { APGD, apgdCheckpoints } from '../../src/attacks/apgd.ts';
import { takeRows } from '../../src/attacks/evaluate.ts';
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

function expectInBudget(r: AttackResult, x: Tensor, eps: number): void {
  for (const v of r.xAdv.data) expect(v >= 0 && v <= 1).toBe(true);
  // f32 rounding of x + ε can land one ulp outside.
  for (const n of r.norms.linf) expect(n).toBeLessThanOrEqual(eps * (1 + 1e-6) + 1e-6);
  expect(r.xAdv.shape).toEqual(x.shape);
}

/** The first n examples of the 500. */
const head = (n: number) => {
  const rows = Array.from({ length: n }, (_, i) => i);
  return { x: takeRows(x, rows), y: takeRows(y, rows) };
};

describe('APGD on mnist-lenet5 (500 images)', () => {
  test('checkpoints: p_0 = 0, p_1 = 0.22, p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06), w_j = ⌈p_j·N⌉', () => {
    expect(apgdCheckpoints(100)).toEqual([0, 22, 41, 57, 70, 80, 87, 93, 99]);
    expect(apgdCheckpoints(1000)).toEqual([0, 220, 410, 570, 700, 800, 870, 930, 990]);
    expect(apgdCheckpoints(10)).toEqual([0, 3, 5, 6, 7, 8, 9, 10]);
  });

  test('APGD-CE and APGD-DLR at ε 0.3: ≥ 99%, inside ε and [0, 1], and ≥ FGSM per example', async () => {
    const fgsm = await new FGSM({ eps: 0.3 }).run(new WhiteBox(model), x, y);
    const line = [`FGSM ${(100 * successRate(fgsm)).toFixed(1)}%`];
    for (const loss of ['ce', 'dlr'] as const) {
      const attack = new APGD({ eps: 0.3, loss, seed: 1 });
      expect(attack.name).toBe(loss === 'ce' ? 'APGD-CE' : 'APGD-DLR');
      const r = await attack.run(new WhiteBox(model), x, y);
      expectInBudget(r, x, 0.3);
      expect(successRate(r)).toBeGreaterThanOrEqual(0.99);
      // Every example FGSM breaks, APGD breaks too (and overall it is at least as strong).
      fgsm.success.forEach((s, i) => {
        if (s && fgsm.cleanCorrect[i]) expect(r.success[i]).toBe(true);
      });
      expect(successRate(r)).toBeGreaterThanOrEqual(successRate(fgsm));
      // start + at most 101 gradient evaluations + the final check.
      for (const q of r.queries) expect(q).toBeLessThanOrEqual(103);
      line.push(
        `${attack.name} ${(100 * successRate(r)).toFixed(1)}% (mean ${(r.queries.reduce((a, b) => a + b, 0) / r.queries.length).toFixed(1)} queries)`,
      );
    }
    console.log(`mnist-lenet5 500 images, ε 0.3: ${line.join(', ')}`);
  }, 60_000);

  test('ε 0.1 (the schedule at work, 100 images): same seed → identical; APGD-CE ≥ PGD with as many steps', async () => {
    const sub = head(100);
    const a = await new APGD({ eps: 0.1, loss: 'ce', seed: 3 }).run(
      new WhiteBox(model),
      sub.x,
      sub.y,
    );
    const b = await new APGD({ eps: 0.1, loss: 'ce', seed: 3 }).run(
      new WhiteBox(model),
      sub.x,
      sub.y,
    );
    expectInBudget(a, sub.x, 0.1);
    expect(Array.from(b.xAdv.data)).toEqual(Array.from(a.xAdv.data));
    expect(b.queries).toEqual(a.queries);
    expect(b.success).toEqual(a.success);
    // Some examples survive, so they ran all 100 iterations through every checkpoint.
    expect(Math.max(...a.queries)).toBe(103);
    const pgd = await new PGD({ eps: 0.1, alpha: 0.01, steps: 100, seed: 3 }).run(
      new WhiteBox(model),
      sub.x,
      sub.y,
    );
    expect(successRate(a)).toBeGreaterThanOrEqual(successRate(pgd));
    console.log(
      `mnist-lenet5 100 images, ε 0.1: APGD-CE ${(100 * successRate(a)).toFixed(1)}%, PGD 100 × 0.01 ${(100 * successRate(pgd)).toFixed(1)}%`,
    );
  }, 60_000);

  test('L2 stays inside its ball; a label-only target is refused clearly', async () => {
    const sub = head(50);
    const r = await new APGD({ norm: 'l2', eps: 2, loss: 'dlr', steps: 20 }).run(
      new WhiteBox(model),
      sub.x,
      sub.y,
    );
    for (const n of r.norms.l2) expect(n).toBeLessThanOrEqual(2 * (1 + 1e-6) + 1e-6);
    for (const v of r.xAdv.data) expect(v >= 0 && v <= 1).toBe(true);
    await expect(new APGD().run(new LabelOracle(model), sub.x, sub.y)).rejects.toThrow(
      'needs a white-box target',
    );
  }, 60_000);
});

// Minimum-norm attacks C&W-L2 and DeepFool on the undefended mnist-lenet5 (500 seeded test images): unbounded
// they break every example, their median L2 norms are reported, and at a budget only the perturbations that
// fit it count (docs/design.md §4). Deterministic: a rerun on a sub-batch gives the same rows bit for bit.
import { beforeAll, describe, expect, test } from 'bun:test';
import { CW } from '../../src/attacks/cw-l2.ts';
import { DeepFool } from '../../src/attacks/deepfool.ts';
import { takeRows } from '../../src/attacks/evaluate.ts';
import { LabelOracle, WhiteBox } from '../../src/attacks/target.ts';
import { median, successRate, type AttackResult } from '../../src/attacks/types.ts';
import type { Sequential } from '../../src/nn/sequential.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { committedModel, mnistSubset } from '../helpers/attack-data.ts';

let model: Sequential;
let x: Tensor, y: Tensor;
const full: { cw?: AttackResult; deepfool?: AttackResult } = {};
beforeAll(async () => {
  model = await committedModel('mnist-lenet5');
  ({ x, y } = await mnistSubset(500));
});

/** Median L2 over the examples the attack broke among those classified correctly (the reported number). */
const medianL2 = (r: AttackResult) =>
  median(r.norms.l2.filter((_, i) => r.cleanCorrect[i] && r.success[i]));

function expectUnboundedSuccess(r: AttackResult): void {
  expect(r.xAdv.data.every((v) => v >= 0 && v <= 1)).toBe(true);
  expect(r.xAdv.shape).toEqual(x.shape);
  expect(successRate(r)).toBe(1);
  expect(r.success.every(Boolean)).toBe(true);
  const m = medianL2(r);
  expect(Number.isFinite(m) && m > 0).toBe(true);
  expect(r.norms.l2.every(Number.isFinite)).toBe(true);
}

/** With eps, success = unbounded success and ‖δ‖₂ ≤ eps; the points themselves are the unbounded run's. */
function expectBudgetedMatches(
  budgeted: AttackResult,
  unbounded: AttackResult,
  rows: number,
  eps: number,
): void {
  const d = x.size / x.shape[0];
  expect(Array.from(budgeted.xAdv.data)).toEqual(
    Array.from(unbounded.xAdv.data.subarray(0, rows * d)),
  );
  expect(budgeted.queries).toEqual(unbounded.queries.slice(0, rows));
  expect(budgeted.success).toEqual(
    budgeted.success.map((_, i) => unbounded.success[i] && unbounded.norms.l2[i] <= eps),
  );
  const fits = budgeted.success.filter(Boolean).length;
  expect(fits).toBeGreaterThan(0);
  expect(fits).toBeLessThan(rows); // eps is the median: some examples need more
}

describe('minimum-norm attacks on mnist-lenet5 (500 images)', () => {
  test('C&W-L2 (defaults): 100% unbounded success, finite positive median L2', async () => {
    const t0 = performance.now();
    full.cw = await new CW().run(new WhiteBox(model), x, y);
    expectUnboundedSuccess(full.cw);
    const q = full.cw.queries.reduce((a, b) => a + b, 0) / x.shape[0];
    console.log(
      `C&W-L2 500 images: success ${(100 * successRate(full.cw)).toFixed(1)}%, median L2 ${medianL2(full.cw).toFixed(3)}, mean queries ${q.toFixed(0)}, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }, 180_000);

  test('DeepFool-L2 (defaults): 100% unbounded success; C&W-L2 median L2 ≤ DeepFool median L2', async () => {
    const t0 = performance.now();
    full.deepfool = await new DeepFool().run(new WhiteBox(model), x, y);
    expectUnboundedSuccess(full.deepfool);
    const q = full.deepfool.queries.reduce((a, b) => a + b, 0) / x.shape[0];
    console.log(
      `DeepFool-L2 500 images: success ${(100 * successRate(full.deepfool)).toFixed(1)}%, median L2 ${medianL2(full.deepfool).toFixed(3)}, mean queries ${q.toFixed(0)}, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    expect(medianL2(full.cw!)).toBeLessThanOrEqual(medianL2(full.deepfool));
  }, 120_000);

  test('with an eps budget only fitting perturbations count; reruns give identical rows', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => i);
    const xs = takeRows(x, rows),
      ys = takeRows(y, rows);
    for (const [name, unbounded, make] of [
      ['C&W-L2', full.cw!, (eps: number) => new CW({ eps })],
      ['DeepFool', full.deepfool!, (eps: number) => new DeepFool({ eps })],
    ] as const) {
      const eps = medianL2(unbounded);
      const budgeted = await make(eps).run(new WhiteBox(model), xs, ys);
      expectBudgetedMatches(budgeted, unbounded, rows.length, eps);
      console.log(
        `${name} at L2 ε = ${eps.toFixed(3)} (its median): ${(100 * successRate(budgeted)).toFixed(0)}% of the first 50 images`,
      );
    }
    // DeepFool-L∞: the budget is read in its own norm.
    const linf = await new DeepFool({ norm: 'linf' }).run(new WhiteBox(model), xs, ys);
    expect(successRate(linf)).toBe(1);
    const atEps = await new DeepFool({ norm: 'linf', eps: 0.1 }).run(new WhiteBox(model), xs, ys);
    expect(Array.from(atEps.xAdv.data)).toEqual(Array.from(linf.xAdv.data));
    expect(atEps.success).toEqual(linf.success.map((s, i) => s && linf.norms.linf[i] <= 0.1));
    console.log(
      `DeepFool-L∞ 50 images: median L∞ ${median(linf.norms.linf).toFixed(3)}; ${(100 * successRate(atEps)).toFixed(0)}% within L∞ ε = 0.1`,
    );
  }, 120_000);

  test('a label-only target is refused clearly', async () => {
    await expect(new CW().run(new LabelOracle(model), x, y)).rejects.toThrow(
      'needs a white-box target',
    );
    await expect(new DeepFool().run(new LabelOracle(model), x, y)).rejects.toThrow(
      'needs a white-box target',
    );
  });
});

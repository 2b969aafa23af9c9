// RayS (labels only, L∞) on the undefended mnist-lenet5: success within ε checked against the model itself,
// per-example and total query budgets, seeded determinism, and option validation.
import { beforeAll, describe, expect, test } from 'bun:test';
import { takeRows } from '../../src/attacks/evaluate.ts';
import { RayS } from '../../src/attacks/index.ts';
import { argmaxRows, LabelOracle } from '../../src/attacks/target.ts';
import { median, successRate, type AttackResult } from '../../src/attacks/types.ts';
import { noGrad } from '../../src/autodiff/grad.ts';
import type { Sequential } from '../../src/nn/sequential.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { committedModel, mnistSubset } from '../helpers/attack-data.ts';

let model: Sequential;
let x: Tensor, y: Tensor, labels: number[];
beforeAll(async () => {
  model = await committedModel('mnist-lenet5');
  const sub = await mnistSubset(20);
  // The first 5 images the model gets right, so every one of them is an attack target.
  const pred = argmaxRows(noGrad(() => model.forward(sub.x)));
  const rows = pred.flatMap((p, i) => (p === sub.y.data[i] ? [i] : [])).slice(0, 5);
  x = takeRows(sub.x, rows);
  y = takeRows(sub.y, rows);
  labels = Array.from(y.data);
});

const total = (r: AttackResult) => r.queries.reduce((a, b) => a + b, 0);
/** The bits of a float32 tensor, so equality means bit-identical (−0 and NaN included). */
const bits = (t: Tensor) => Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.size));

describe('RayS (labels only, L∞)', () => {
  test('ε 0.3, 2000 queries, 5 clean-correct images: most broken, each xAdv misclassified by the model, inside ε and [0, 1]', async () => {
    const oracle = new LabelOracle(model);
    const r = await new RayS({ eps: 0.3, maxQueries: 2000 }).run(oracle, x, y);
    expect(r.cleanCorrect).toEqual([true, true, true, true, true]);
    expect(successRate(r)).toBeGreaterThanOrEqual(0.8);
    // The model itself, not the attack's report, says whether each returned point is adversarial.
    const pred = argmaxRows(noGrad(() => model.forward(r.xAdv)));
    r.success.forEach((s, i) => {
      if (s) expect(pred[i]).not.toBe(labels[i]);
      expect(pred[i]).toBe(r.predictions[i]);
    });
    for (let i = 0; i < r.xAdv.size; i++) {
      const v = r.xAdv.data[i];
      expect(v >= 0 && v <= 1).toBe(true);
      expect(Math.abs(v - x.data[i])).toBeLessThanOrEqual(0.3 + 1e-6);
    }
    r.norms.linf.forEach((n) => expect(n).toBeLessThanOrEqual(0.3 + 1e-6));
    for (const q of r.queries) expect(q).toBeLessThanOrEqual(2000);
    expect(total(r)).toBe(oracle.queries);
    console.log(
      `RayS ε 0.3, 5 images, ≤ 2000 queries: ${(100 * successRate(r)).toFixed(0)}%, queries per image ${r.queries.join(', ')} (median ${median(r.queries)}), L∞ ${r.norms.linf.map((n) => n.toFixed(3)).join(', ')}`,
    );
  }, 30_000);

  test('queries never exceed maxQueries per example, nor a budgeted oracle’s total', async () => {
    // ε 0.05 is out of reach, so every example searches until its own cap.
    const capped = new LabelOracle(model);
    const a = await new RayS({ eps: 0.05, maxQueries: 150 }).run(capped, x, y);
    a.queries.forEach((q, i) => {
      expect(q).toBeLessThanOrEqual(150);
      if (!a.success[i]) expect(q).toBe(150);
    });
    expect(total(a)).toBe(capped.queries);
    // A total budget below the per-example caps: start() reserves the final check, so the search stops first.
    const budgeted = new LabelOracle(model, { budget: 300 });
    const b = await new RayS({ eps: 0.05, maxQueries: 2000 }).run(budgeted, x, y);
    expect(budgeted.queries).toBeLessThanOrEqual(300);
    expect(budgeted.queries).toBeGreaterThan(300 - 5);
    expect(total(b)).toBe(budgeted.queries);
    for (const q of b.queries) expect(q).toBeLessThanOrEqual(2000);
    for (const v of b.xAdv.data) expect(v >= 0 && v <= 1).toBe(true);
  }, 30_000);

  test('same seed → bit-identical xAdv and queries; another seed → another random start', async () => {
    const run = (seed: number) =>
      new RayS({ eps: 0.1, maxQueries: 300, randomStart: true, seed }).run(
        new LabelOracle(model),
        x,
        y,
      );
    const a = await run(3),
      b = await run(3),
      c = await run(4);
    expect(bits(b.xAdv)).toEqual(bits(a.xAdv));
    expect(b.queries).toEqual(a.queries);
    expect(bits(c.xAdv)).not.toEqual(bits(a.xAdv));
    // The paper's all-ones start draws nothing: the seed does not change it.
    const ones = (seed: number) =>
      new RayS({ eps: 0.1, maxQueries: 300, seed }).run(new LabelOracle(model), x, y);
    expect(bits((await ones(1)).xAdv)).toEqual(bits((await ones(2)).xAdv));
  }, 30_000);

  test('invalid options throw a RangeError naming the option', () => {
    const cases: [object, string][] = [
      [{ eps: -0.1 }, 'eps'],
      [{ eps: NaN }, 'eps'],
      [{ maxQueries: 1 }, 'maxQueries'],
      [{ maxQueries: 100.5 }, 'maxQueries'],
      [{ tolerance: 0 }, 'tolerance'],
      [{ tolerance: 1 }, 'tolerance'],
      [{ seed: 0.5 }, 'seed'],
    ];
    for (const [opts, name] of cases) {
      expect(() => new RayS(opts)).toThrow(RangeError);
      expect(() => new RayS(opts)).toThrow(`RayS: ${name} must be`);
    }
    expect(new RayS().opts).toEqual({
      eps: 0.3,
      maxQueries: 10_000,
      tolerance: 1e-3,
      randomStart: false,
      seed: 0,
    });
  });
});

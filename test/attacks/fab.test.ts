// FAB-T (targeted Fast Adaptive Boundary, L∞): the box-constrained projection against a brute-force search;
// on the undefended mnist-lenet5 (20 seeded test images) a minimum-norm search whose median L∞ sits well below
// a large ε (and below DeepFool-L∞'s), results inside ε and [0, 1] with success only within ε and equal to a
// fresh prediction, and the same seed reproducing every number (random restarts included).
import { beforeAll, describe, expect, test } from 'bun:test';
import { noGrad } from '../../src/autodiff/grad.ts';
import { DeepFool } from '../../src/attacks/deepfool.ts';
import { FAB, projectLinf } from '../../src/attacks/fab.ts';
import { argmaxRows, LabelOracle, WhiteBox } from '../../src/attacks/target.ts';
import { median, successRate, type AttackResult } from '../../src/attacks/types.ts';
import { deriveStream, uniform } from '../../src/hash/rng.ts';
import type { Sequential } from '../../src/nn/sequential.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { committedModel, mnistSubset } from '../helpers/attack-data.ts';

let model: Sequential;
let x: Tensor, y: Tensor;
const runs: { unbounded?: AttackResult } = {};
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
}

function expectFreshPrediction(r: AttackResult): void {
  const pred = argmaxRows(noGrad(() => model.forward(r.xAdv)));
  expect(r.predictions).toEqual(pred);
  expect(r.success).toEqual(pred.map((p, i) => p !== Math.round(y.data[i])));
}

/** Median L∞ over the clean-correct images the attack broke. */
const medianLinf = (r: AttackResult) =>
  median(r.norms.linf.filter((_, i) => r.cleanCorrect[i] && r.success[i]));

describe('projectLinf', () => {
  test('lands on the hyperplane inside [0, 1] with the smallest L∞ step (brute-force bisection), else the box corner', () => {
    const s = deriveStream(5, 1);
    let c = 0;
    const draw = () => uniform(s, c++);
    let checked = 0,
      corners = 0;
    for (let trial = 0; trial < 500; trial++) {
      const n = 1 + Math.floor(draw() * 8);
      const t = Array.from({ length: n }, () => (draw() < 0.2 ? Math.round(draw()) : draw()));
      const w = Array.from({ length: n }, () => (draw() < 0.2 ? 0 : 2 * draw() - 1));
      const b = 4 * draw() - 2;
      const d = projectLinf(t, w, b);
      for (let i = 0; i < n; i++) {
        expect(t[i] + d[i]).toBeGreaterThanOrEqual(-1e-12);
        expect(t[i] + d[i]).toBeLessThanOrEqual(1 + 1e-12);
        if (w[i] === 0) expect(d[i]).toBe(0);
      }
      const gap = b - w.reduce((acc, wi, i) => acc + wi * t[i], 0);
      // Reach at radius λ moving each coordinate toward sign(w_i·gap) until the box stops it.
      const reach = (l: number) =>
        w.reduce(
          (acc, wi, i) => acc + Math.abs(wi) * Math.min(l, wi * gap > 0 ? 1 - t[i] : t[i]),
          0,
        );
      const lam = Math.max(0, ...Array.from(d, Math.abs));
      if (reach(1) < Math.abs(gap)) {
        // Out of reach: the corner that gets closest.
        corners++;
        for (let i = 0; i < n; i++)
          if (w[i] !== 0) expect(t[i] + d[i]).toBe(w[i] * gap > 0 ? 1 : 0);
        continue;
      }
      let lo = 0,
        hi = 1;
      for (let k = 0; k < 60; k++)
        [lo, hi] =
          reach((lo + hi) / 2) >= Math.abs(gap) ? [lo, (lo + hi) / 2] : [(lo + hi) / 2, hi];
      expect(Math.abs(lam - hi)).toBeLessThan(1e-9);
      expect(Math.abs(w.reduce((acc, wi, i) => acc + wi * (t[i] + d[i]), 0) - b)).toBeLessThan(
        1e-9,
      );
      checked++;
    }
    expect(checked).toBeGreaterThan(100);
    expect(corners).toBeGreaterThan(10);
  });
});

describe('FAB-T on mnist-lenet5 (20 images)', () => {
  test("minimum norm: unbounded it breaks every image, the median L∞ far below ε 0.3 and at most DeepFool-L∞'s", async () => {
    const t0 = performance.now();
    const r = await new FAB({ eps: Infinity }).run(new WhiteBox(model), x, y);
    const seconds = (performance.now() - t0) / 1000;
    runs.unbounded = r;
    expectFreshPrediction(r);
    expect(successRate(r)).toBe(1);
    const fab = medianLinf(r);
    const df = medianLinf(await new DeepFool({ norm: 'linf' }).run(new WhiteBox(model), x, y));
    expect(fab).toBeLessThan(0.5 * 0.3);
    expect(fab).toBeLessThanOrEqual(df);
    // Budgeted at a large ε, the reported perturbations are those same minimal ones.
    const big = await new FAB({ eps: 0.3 }).run(new WhiteBox(model), x, y);
    expectInBudget(big, x, 0.3);
    expect(successRate(big)).toBe(1);
    expect(medianLinf(big)).toBeLessThan(0.3);
    expect(big.norms.linf).toEqual(r.norms.linf);
    console.log(
      `FAB-T 20 images: median L∞ ${fab.toFixed(4)} (DeepFool-L∞ ${df.toFixed(4)}), mean queries ${(r.queries.reduce((a, b) => a + b, 0) / r.queries.length).toFixed(0)}, ${seconds.toFixed(1)} s`,
    );
  }, 60_000);

  test('ε 0.06: inside ε and [0, 1], success only where the minimal norm fits, equal to a fresh prediction', async () => {
    const eps = 0.06;
    const r = await new FAB({ eps }).run(new WhiteBox(model), x, y);
    expectInBudget(r, x, eps);
    expectFreshPrediction(r);
    const fits = runs.unbounded!.norms.linf.map((n, i) => r.cleanCorrect[i] && n <= eps);
    // The unbounded run's first target is this run's too, so whatever fit there fits here.
    fits.forEach((f, i) => {
      if (f) expect(r.success[i]).toBe(true);
    });
    expect(r.success.filter(Boolean).length).toBeGreaterThan(0);
    expect(r.success.filter(Boolean).length).toBeLessThan(20);
    console.log(
      `FAB-T ε ${eps}: ${(100 * successRate(r)).toFixed(1)}% (unbounded within ε: ${fits.filter(Boolean).length}/20)`,
    );
  }, 60_000);

  test('same seed → identical results with random restarts; a label-only target is refused', async () => {
    const o = { eps: 0.06, steps: 30, targets: 2, restarts: 2, seed: 4 };
    const a = await new FAB(o).run(new WhiteBox(model), x, y);
    const b = await new FAB(o).run(new WhiteBox(model), x, y);
    expectInBudget(a, x, 0.06);
    expect(Array.from(b.xAdv.data)).toEqual(Array.from(a.xAdv.data));
    expect(b.queries).toEqual(a.queries);
    expect(b.success).toEqual(a.success);
    // The random restarts ran: images left unbroken spent more queries than without them.
    const single = await new FAB({ ...o, restarts: 1 }).run(new WhiteBox(model), x, y);
    expect(a.queries.some((q, i) => q > single.queries[i])).toBe(true);
    await expect(new FAB().run(new LabelOracle(model), x, y)).rejects.toThrow(
      'needs a white-box target',
    );
  }, 60_000);
});

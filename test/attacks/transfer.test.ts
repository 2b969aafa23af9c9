// Transfer from mnist-mlp to mnist-lenet5 (200 seeded MNIST test images, L∞ ε 0.3), and the Papernot et al.
// substitute attack against a label oracle with a query budget: exact query accounting, nonzero success.
import { beforeAll, describe, expect, test } from 'bun:test';
import { takeRows } from '../../src/attacks/evaluate.ts';
import { FGSM } from '../../src/attacks/fgsm.ts';
import { PGD } from '../../src/attacks/pgd.ts';
import { Substitute } from '../../src/attacks/substitute.ts';
import { LabelOracle, WhiteBox } from '../../src/attacks/target.ts';
import { budgetOf, Transfer } from '../../src/attacks/transfer.ts';
import { successRate } from '../../src/attacks/types.ts';
import type { Sequential } from '../../src/nn/sequential.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { committedModel, mnistSubset } from '../helpers/attack-data.ts';

let lenet: Sequential, mlp: Sequential;
let x: Tensor, y: Tensor, holdout: Tensor;
beforeAll(async () => {
  lenet = await committedModel('mnist-lenet5');
  mlp = await committedModel('mnist-mlp');
  // Rows 0..199 are attacked (the other attack tests' images); rows 200..349 are the substitute's seed set.
  const all = await mnistSubset(350);
  const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
  x = takeRows(all.x, rows(0, 200));
  y = takeRows(all.y, rows(0, 200));
  holdout = takeRows(all.x, rows(200, 150));
});

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const pgd = () => new PGD({ eps: 0.3, alpha: 0.01, steps: 40, seed: 1 });

describe('Transfer', () => {
  test('PGD crafted on mnist-mlp transfers to mnist-lenet5 (> 20%, ≤ white-box); 2 target queries per row', async () => {
    const oracle = new LabelOracle(lenet);
    const r = await new Transfer({ attack: pgd(), source: mlp }).run(oracle, x, y);
    const whiteBox = await pgd().run(new WhiteBox(lenet), x, y);
    // κ = 0: PGD stops at the source's boundary and its points barely transfer (why the default is ∞).
    const atBoundary = await new Transfer({ attack: pgd(), source: mlp, confidence: 0 }).run(
      new LabelOracle(lenet),
      x,
      y,
    );
    const fgsm = await new Transfer({ attack: new FGSM({ eps: 0.3 }), source: mlp }).run(
      new LabelOracle(lenet),
      x,
      y,
    );
    console.log(
      `Transfer mnist-mlp → mnist-lenet5 (200 images, ε 0.3): PGD 40×0.01 ${pct(successRate(r))} (κ 0: ${pct(successRate(atBoundary))}), FGSM ${pct(successRate(fgsm))}; white-box PGD on lenet5 ${pct(successRate(whiteBox))}; on the source ${pct(r.source.success.filter(Boolean).length / 200)}`,
    );
    expect(successRate(r)).toBeGreaterThan(0.2);
    expect(successRate(r)).toBeLessThanOrEqual(successRate(whiteBox));
    expect(successRate(atBoundary)).toBeLessThanOrEqual(successRate(r));
    expect(r.queries.every((q) => q === 2)).toBe(true);
    expect(oracle.queries).toBe(400);
    expect(r.source.queries).toBeGreaterThan(200 * 40);
    for (const n of r.norms.linf) expect(n).toBeLessThanOrEqual(0.3 + 1e-6);
    expect(budgetOf(pgd())).toEqual({ norm: 'linf', eps: 0.3 });
  }, 60_000);
});

describe('Substitute (Papernot et al. 2017)', () => {
  test('trains from label queries within the budget; the oracle count equals the reported total', async () => {
    const budget = 2000;
    const oracle = new LabelOracle(lenet, { budget });
    // 150 held-out seeds, ρ = 4 rounds would label 150·2^4 = 2400 points; the budget leaves 2000 − 2·200 = 1600.
    const r = await new Substitute({
      seedSet: holdout,
      rounds: 4,
      queryBudget: budget,
      seed: 1,
    }).run(oracle, x, y);
    const total = r.trainingQueries + r.queries.reduce((a, b) => a + b, 0);
    console.log(
      `Substitute (MLP from ${r.trainingQueries} label queries, sizes ${r.trainingSizes.join('/')}, agreement with mnist-lenet5 ${pct(r.agreement)}): FGSM ε 0.3 transfer ${pct(successRate(r))}; oracle queries ${oracle.queries}`,
    );
    expect(oracle.queries).toBe(total);
    expect(total).toBe(budget);
    expect(r.trainingQueries).toBe(1600);
    expect(r.trainingSizes).toEqual([150, 300, 600, 1200, 1600]);
    expect(successRate(r)).toBeGreaterThan(0);
  }, 90_000);

  test("without a seed set it reuses the attacked rows' clean labels (no extra queries) and refuses an impossible budget", async () => {
    const oracle = new LabelOracle(lenet);
    const small = takeRows(
      x,
      Array.from({ length: 40 }, (_, i) => i),
    );
    const smallY = takeRows(
      y,
      Array.from({ length: 40 }, (_, i) => i),
    );
    const r = await new Substitute({ seedSize: 40, rounds: 1, epochs: 2, seed: 2 }).run(
      oracle,
      small,
      smallY,
    );
    expect(r.trainingSizes).toEqual([40, 80]);
    expect(r.trainingQueries).toBe(40); // only the augmented points were labelled
    expect(oracle.queries).toBe(r.trainingQueries + 2 * 40);
    await expect(
      new Substitute({ queryBudget: 50 }).run(new LabelOracle(lenet), small, smallY),
    ).rejects.toThrow('query budget');
  }, 30_000);
});

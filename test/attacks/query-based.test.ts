// Query-based attacks on the undefended mnist-lenet5 (100 seeded test images): Square (L∞ ε 0.3, scores =
// logits and probabilities, 5000 queries per example) and HopSkipJump (labels only, L2 and L∞). Checks success,
// per-example query caps, that every oracle query is charged to an example, budgets, and determinism.
import { beforeAll, describe, expect, test } from 'bun:test';
import { takeRows } from '../../src/attacks/evaluate.ts';
import { HopSkipJump } from '../../src/attacks/hopskipjump.ts';
import { Square, squareP } from '../../src/attacks/square.ts';
import { LabelOracle, ScoreOracle } from '../../src/attacks/target.ts';
import { median, successRate, type AttackResult } from '../../src/attacks/types.ts';
import type { Sequential } from '../../src/nn/sequential.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { committedModel, mnistSubset } from '../helpers/attack-data.ts';

let model: Sequential;
let x: Tensor, y: Tensor;
beforeAll(async () => {
  model = await committedModel('mnist-lenet5');
  ({ x, y } = await mnistSubset(100));
});

const total = (r: AttackResult) => r.queries.reduce((a, b) => a + b, 0);
/** The first n examples of the 100. */
const head = (n: number) => {
  const rows = Array.from({ length: n }, (_, i) => i);
  return { x: takeRows(x, rows), y: takeRows(y, rows) };
};
/** Per-example values over the clean-correct examples the attack broke. */
const broken = (r: AttackResult, v: readonly number[]) =>
  v.filter((_, i) => r.success[i] && r.cleanCorrect[i]);

describe('Square (L∞ ε 0.3, 5000 queries per example)', () => {
  test('the p schedule halves p_init at 10, 50, 200, …, 8000 of 10,000, rescaled to the budget', () => {
    expect(squareP(0.05, 1, 10_000)).toBe(0.05);
    expect(squareP(0.05, 11, 10_000)).toBe(0.025);
    expect(squareP(0.05, 201, 10_000)).toBe(0.05 / 8);
    expect(squareP(0.05, 9000, 10_000)).toBe(0.05 / 512);
    expect(squareP(0.05, 6, 5000)).toBe(0.025); // 6/5000 of the budget = 12/10,000
  });

  for (const output of ['logits', 'probabilities'] as const) {
    test(`on ${output}: ≥ 90%, ≤ 5000 queries per example, every oracle query charged to an example`, async () => {
      const oracle = new ScoreOracle(model, { output });
      const r = await new Square({ eps: 0.3, maxQueries: 5000, seed: 1 }).run(oracle, x, y);
      expect(successRate(r)).toBeGreaterThanOrEqual(0.9);
      for (const q of r.queries) expect(q).toBeLessThanOrEqual(5000);
      // start (1) + stripes and squares (1 per proposal) + the final check (1): nothing uncounted.
      expect(total(r)).toBe(oracle.queries);
      for (const v of r.xAdv.data) expect(v >= 0 && v <= 1).toBe(true);
      for (const n of r.norms.linf) expect(n).toBeLessThanOrEqual(0.3 * (1 + 1e-6) + 1e-6);
      console.log(
        `Square on ${output}, 100 images: ${(100 * successRate(r)).toFixed(1)}%, median ${median(broken(r, r.queries))} queries per broken example, ${oracle.queries} oracle queries in all`,
      );
    }, 60_000);
  }

  test('same seed → identical results; another seed → other squares', async () => {
    const a = await new Square({ seed: 5 }).run(new ScoreOracle(model), x, y);
    const b = await new Square({ seed: 5 }).run(new ScoreOracle(model), x, y);
    expect(Array.from(b.xAdv.data)).toEqual(Array.from(a.xAdv.data));
    expect(b.queries).toEqual(a.queries);
    const c = await new Square({ seed: 6 }).run(new ScoreOracle(model), x, y);
    expect(Array.from(c.xAdv.data)).not.toEqual(Array.from(a.xAdv.data));
  }, 60_000);

  test('a small total budget stops Square without crashing and reports partial results', async () => {
    // start() sets the final check's 100 queries aside, so the attack's own queries run out first.
    const oracle = new ScoreOracle(model, { budget: 500 });
    const r = await new Square({ seed: 1 }).run(oracle, x, y);
    expect(oracle.queries).toBeLessThanOrEqual(500);
    expect(oracle.queries).toBeGreaterThan(500 - 100);
    expect(total(r)).toBe(oracle.queries);
    expect(successRate(r)).toBeGreaterThan(0);
  }, 60_000);

  test('a budget too small for even the clean and final checks is refused clearly', async () => {
    await expect(
      new Square({ seed: 1 }).run(new ScoreOracle(model, { budget: 150 }), x, y),
    ).rejects.toThrow('query budget of 150 exhausted');
  }, 60_000);

  test('refuses a label-only target', async () => {
    await expect(new Square().run(new LabelOracle(model), x, y)).rejects.toThrow('needs scores');
  });
});

describe('HopSkipJump (labels only)', () => {
  test('L2, 100 images, the default 5000 queries per example: 100% with a finite median L2, every query counted', async () => {
    const oracle = new LabelOracle(model);
    const r = await new HopSkipJump({ norm: 'l2', seed: 1 }).run(oracle, x, y);
    expect(successRate(r)).toBe(1);
    const l2 = median(broken(r, r.norms.l2));
    expect(Number.isFinite(l2)).toBe(true);
    for (const q of r.queries) expect(q).toBeLessThanOrEqual(5000);
    expect(total(r)).toBe(oracle.queries);
    for (const v of r.xAdv.data) expect(v >= 0 && v <= 1).toBe(true);
    console.log(
      `HopSkipJump-L2, 100 images, ≤ 5000 queries: ${(100 * successRate(r)).toFixed(1)}%, median L2 ${l2.toFixed(3)}, median ${median(r.queries)} queries`,
    );
  }, 150_000);

  test('L∞ variant (20 images, 1000 queries): 100%, finite median L∞', async () => {
    const sub = head(20);
    const r = await new HopSkipJump({ norm: 'linf', maxQueries: 1000, seed: 1 }).run(
      new LabelOracle(model),
      sub.x,
      sub.y,
    );
    expect(successRate(r)).toBe(1);
    const linf = median(broken(r, r.norms.linf));
    expect(linf).toBeGreaterThan(0);
    expect(linf).toBeLessThan(1);
    console.log(`HopSkipJump-Linf, 20 images, ≤ 1000 queries: median L∞ ${linf.toFixed(3)}`);
  }, 60_000);

  test('starts from another input of the batch when no noise draw is allowed (initTries 0)', async () => {
    const sub = head(10);
    const r = await new HopSkipJump({ maxQueries: 300, initTries: 0 }).run(
      new LabelOracle(model),
      sub.x,
      sub.y,
    );
    expect(successRate(r)).toBe(1);
    for (const q of r.queries) expect(q).toBeLessThanOrEqual(300);
  }, 60_000);

  test('same seed → identical; an eps counts success only inside its ball', async () => {
    const sub = head(10);
    const a = await new HopSkipJump({ maxQueries: 500, seed: 2 }).run(
      new LabelOracle(model),
      sub.x,
      sub.y,
    );
    const b = await new HopSkipJump({ maxQueries: 500, seed: 2 }).run(
      new LabelOracle(model),
      sub.x,
      sub.y,
    );
    expect(Array.from(b.xAdv.data)).toEqual(Array.from(a.xAdv.data));
    expect(b.queries).toEqual(a.queries);
    const eps = median(broken(a, a.norms.l2));
    const c = await new HopSkipJump({ maxQueries: 500, seed: 2, eps }).run(
      new LabelOracle(model),
      sub.x,
      sub.y,
    );
    c.success.forEach((s, i) => {
      if (s) expect(c.norms.l2[i]).toBeLessThanOrEqual(eps * (1 + 1e-6) + 1e-6);
    });
    // Same run, projected: the examples that made it within eps still count.
    a.success.forEach((s, i) => {
      if (s && a.norms.l2[i] <= eps) expect(c.success[i]).toBe(true);
    });
  }, 60_000);
});

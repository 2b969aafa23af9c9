// Query attacks against a randomized target (docs/design.md §4): a point counts as misclassified only when most
// of 10 fresh queries misclassify it (evaluate.ts `verdict`), Square and HopSkipJump search on otherwise, every
// confirmation query is counted, and a deterministic target spends exactly one query per check. Models:
// mnist-lenet5-h8 without GI and with the audit's GI random stage (α ∈ [50, 150], 5% last-layer noise).
import { beforeAll, describe, expect, test } from 'bun:test';
import { takeRows, verdict, VERDICT_QUERIES } from '../../src/attacks/evaluate.ts';
import { HopSkipJump } from '../../src/attacks/hopskipjump.ts';
import { Square } from '../../src/attacks/square.ts';
import {
  argmaxRows,
  LabelOracle,
  ScoreOracle,
  WhiteBox,
  type ScoreTarget,
  type Target,
} from '../../src/attacks/target.ts';
import { EOT } from '../../src/attacks/eot.ts';
import { LogitRescale } from '../../src/attacks/rescale.ts';
import { successRate, type AttackResult } from '../../src/attacks/types.ts';
import { auditStages } from '../../src/audit/configurations.ts';
import { noGrad } from '../../src/autodiff/grad.ts';
import { DefendedModel } from '../../src/defense/defended-model.ts';
import { applyStaticStages } from '../../src/defense/gradient-inhibition.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { committedModel, mnistSubset } from '../helpers/attack-data.ts';

let hashed: Sequential;
let x: Tensor, y: Tensor;
beforeAll(async () => {
  hashed = await committedModel('mnist-lenet5-h8');
  ({ x, y } = await mnistSubset(30));
});

/** mnist-lenet5-h8 as a DefendedModel: plain, or with the audit's GI random stage and request seeds from `secret`. */
function defended(random: boolean, secret = 0): DefendedModel {
  if (!random) return new DefendedModel(hashed, null);
  const stage = auditStages(0).find((s) => s.name === 'hashed+GI random')!.stage;
  const params = applyStaticStages(hashed.layers, hashed.params, [stage]);
  return new DefendedModel(
    new Sequential(hashed.inputShape, hashed.layers, params),
    { stages: [stage], source: { name: 'mnist-lenet5-h8', weightsSha256: '', hashed: true } },
    secret,
  );
}

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const total = (r: AttackResult) => r.queries.reduce((a, b) => a + b, 0);

/** Per row of r.xAdv: misclassified by most of 10 fresh queries of `judge` (a model the attack never queried). */
function freshMajority(
  judge: DefendedModel,
  r: AttackResult,
  labels: readonly number[],
): boolean[] {
  const wrong = labels.map(() => 0);
  for (let q = 0; q < 10; q++)
    argmaxRows(noGrad(() => judge.forward(r.xAdv))).forEach((p, i) => {
      if (p !== labels[i]) wrong[i]++;
    });
  return wrong.map((w) => w > 5);
}
/** Share of clean-correct rows among `hits`. */
const rateOf = (hits: readonly boolean[], r: AttackResult) => {
  const among = r.cleanCorrect.flatMap((c, i) => (c ? [i] : []));
  return among.filter((i) => hits[i]).length / among.length;
};
/** Share of rows where the attack's own success flag equals the fresh majority verdict. */
const agreement = (r: AttackResult, fresh: readonly boolean[]) =>
  r.success.filter((s, i) => s === fresh[i]).length / r.success.length;

/** A label target that answers from a script: row i's k-th predict is answers[i][k]; `randomized` as given. */
class Scripted implements Target {
  readonly kind = 'labels' as const;
  readonly inputShape = [1];
  queries = 0;
  calls = 0;
  private asked: number[];
  constructor(
    private readonly answers: number[][],
    readonly randomized: boolean,
  ) {
    this.asked = answers.map(() => 0);
  }
  async predict(t: Tensor): Promise<number[]> {
    this.calls++;
    this.queries += t.shape[0];
    // Rows are identified by their value (the test puts the row index in the single feature).
    return Array.from(t.data, (v) => this.answers[v][this.asked[v]++]);
  }
}
const rowsTensor = (n: number) =>
  new Tensor(
    [n, 1],
    Float32Array.from({ length: n }, (_, i) => i),
  );

/** Counts the predict calls that pass through (Square's confirmations and checks; its search uses scores). */
class CountingScores implements ScoreTarget {
  readonly kind = 'scores' as const;
  predictCalls = 0;
  constructor(private readonly inner: ScoreOracle) {}
  get inputShape() {
    return this.inner.inputShape;
  }
  get queries() {
    return this.inner.queries;
  }
  get randomized() {
    return this.inner.randomized;
  }
  scores(t: Tensor) {
    return this.inner.scores(t);
  }
  predict(t: Tensor) {
    this.predictCalls++;
    return this.inner.predict(t);
  }
  reserve(n: number) {
    this.inner.reserve(n);
  }
  release(n: number) {
    this.inner.release(n);
  }
}

describe('verdict', () => {
  test('deterministic: one query, its answer; randomized: most of 10, asking a row only until it is settled', async () => {
    const det = new Scripted([[3], [1]], false);
    expect(await verdict(det, rowsTensor(2), [1, 1])).toEqual({
      wrong: [true, false],
      predictions: [3, 1],
      queries: [1, 1],
    });
    expect(det.calls).toBe(1);

    const label = 0;
    const answers = [
      [2, 2, 0, 2, 2, 3, 2, 2, 2, 2], // 6 wrong after 7 answers: misclassified, reported as 2 (most frequent)
      [0, 0, 0, 0, 0, 1, 1, 1, 1, 1], // 5 right after 5 answers: correct
      [1, 0, 1, 0, 1, 0, 1, 0, 1, 0], // 5 right after 10 answers: correct (5 of 10 is not most)
      [4, 4, 4, 5, 5, 5, 0, 0, 0, 0], // 6 wrong after 6 answers: tie 4/5 → the lower class
    ];
    const rnd = new Scripted(answers, true);
    const v = await verdict(rnd, rowsTensor(4), [label, label, label, label]);
    expect(v).toEqual({
      wrong: [true, false, false, true],
      predictions: [2, 0, 0, 4],
      queries: [7, 5, 10, 6],
    });
    expect(rnd.queries).toBe(7 + 5 + 10 + 6);
    expect(VERDICT_QUERIES).toBe(10);

    // need 10 (Square's stop rule): the first correct answer ends the row.
    const strict = new Scripted([[1, 1, 0, 1], Array(10).fill(1)], true);
    expect(await verdict(strict, rowsTensor(2), [0, 0], 10)).toEqual({
      wrong: [false, true],
      predictions: [0, 1],
      queries: [3, 10],
    });
  });

  test('targets say whether they are randomized: from the model, through EOT and LogitRescale, or as asked', () => {
    const rnd = defended(true),
      det = defended(false);
    expect(new ScoreOracle(rnd).randomized).toBe(true);
    expect(new LabelOracle(det).randomized).toBe(false);
    expect(new WhiteBox(rnd).randomized).toBe(true);
    expect(new EOT(new WhiteBox(rnd)).randomized).toBe(true);
    expect(new WhiteBox(new LogitRescale(rnd, 100)).randomized).toBe(true);
    expect(new ScoreOracle(rnd, { randomized: false }).randomized).toBe(false);
    expect(new WhiteBox(hashed).randomized).toBe(false); // a plain Sequential says nothing: deterministic
  });
});

describe('Square (L∞ ε 0.3, 1000 queries per example, 30 images) against GI random', () => {
  test('reaches ≥ 95% of its success without GI; its success flags agree with fresh majorities; the single-query stop does not', async () => {
    const labels = Array.from(y.data, Math.round);
    const judge = defended(true, 99);
    const square = () => new Square({ eps: 0.3, maxQueries: 1000, seed: 1 });
    const t0 = performance.now();
    const plainOracle = new CountingScores(new ScoreOracle(defended(false)));
    const plain = await square().run(plainOracle, x, y);
    const oracle = new CountingScores(new ScoreOracle(defended(true, 5)));
    const r = await square().run(oracle, x, y);
    // The behaviour before: the target not marked randomized, so the first misclassifying answer ends the search.
    const old = await square().run(new ScoreOracle(defended(true, 5), { randomized: false }), x, y);
    const fresh = freshMajority(judge, r, labels),
      freshOld = freshMajority(judge, old, labels);
    console.log(
      `Square vs GI random, 30 images, 1000 queries: without GI ${pct(successRate(plain))} (${total(plain)} queries); GI random ${pct(successRate(r))} own verdict, ${pct(rateOf(fresh, r))} by 10 fresh queries, agreement ${pct(agreement(r, fresh))} (${total(r)} queries); single-query stop ${pct(rateOf(freshOld, old))} by 10 fresh queries; ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );

    expect(successRate(plain)).toBeGreaterThanOrEqual(0.9);
    expect(successRate(r)).toBeGreaterThanOrEqual(0.95 * successRate(plain));
    expect(rateOf(fresh, r)).toBeGreaterThanOrEqual(0.9 * successRate(plain));
    expect(agreement(r, fresh)).toBeGreaterThanOrEqual(0.9);
    expect(rateOf(freshOld, old)).toBeLessThan(rateOf(fresh, r) - 0.3);

    // Every query counted (confirmations and 10-query checks included), none past the per-example budget.
    expect(total(r)).toBe(oracle.queries);
    for (const q of r.queries) expect(q).toBeLessThanOrEqual(1000);
    // A deterministic target pays nothing extra: its only label queries are the clean and the final check.
    expect(plainOracle.predictCalls).toBe(2);
    expect(total(plain)).toBe(plainOracle.queries);
    expect(oracle.predictCalls).toBeGreaterThan(2);
  }, 120_000);

  test('a total budget on a randomized oracle stops Square and HopSkipJump with partial results, every query counted', async () => {
    // 10 images: start's clean verdicts (≤ 100) and the final verdicts set aside (100) leave ≤ 300 for the search,
    // which runs out in the middle of it (confirmations included).
    const rows = Array.from({ length: 10 }, (_, i) => i);
    const [xs, ys] = [takeRows(x, rows), takeRows(y, rows)];
    const scores = new ScoreOracle(defended(true, 5), { budget: 500 });
    const r = await new Square({ eps: 0.3, maxQueries: 1000, seed: 1 }).run(scores, xs, ys);
    const labels = new LabelOracle(defended(true, 5), { budget: 1500 });
    const h = await new HopSkipJump({ maxQueries: 1000, seed: 1 }).run(labels, xs, ys);
    console.log(
      `budgeted, 10 images: Square ${scores.queries} of 500 queries, ${pct(successRate(r))}; HopSkipJump ${labels.queries} of 1500`,
    );
    for (const [res, oracle, budget] of [
      [r, scores, 500],
      [h, labels, 1500],
    ] as const) {
      expect(oracle.queries).toBeLessThanOrEqual(budget);
      expect(oracle.queries).toBeGreaterThan(budget - 100); // the budget, not the attack, ended the search
      expect(total(res)).toBe(oracle.queries);
    }
    expect(successRate(r)).toBeGreaterThan(0);
  }, 60_000);
});

describe('HopSkipJump (L2, labels only, 2000 queries per example, 20 images) against GI random', () => {
  test('its final points are misclassified by most of 10 fresh queries; before, they mostly were not', async () => {
    const rows = Array.from({ length: 20 }, (_, i) => i);
    const xs = takeRows(x, rows),
      ys = takeRows(y, rows);
    const labels = Array.from(ys.data, Math.round);
    const judge = defended(true, 99);
    const hsj = () => new HopSkipJump({ norm: 'l2', maxQueries: 2000, seed: 1 });
    const t0 = performance.now();
    const oracle = new LabelOracle(defended(true, 5));
    const r = await hsj().run(oracle, xs, ys);
    const old = await hsj().run(new LabelOracle(defended(true, 5), { randomized: false }), xs, ys);
    const plain = await hsj().run(new LabelOracle(defended(false)), xs, ys);
    const fresh = freshMajority(judge, r, labels),
      freshOld = freshMajority(judge, old, labels);
    const within = (hits: readonly boolean[], res: AttackResult) =>
      rateOf(
        hits.map((h, i) => h && res.norms.l2[i] <= 2),
        res,
      );
    console.log(
      `HopSkipJump-L2 vs GI random, 20 images, 2000 queries, by 10 fresh queries: ${pct(rateOf(fresh, r))} unbounded, ${pct(within(fresh, r))} within L2 2 (agreement ${pct(agreement(r, fresh))}); before ${pct(rateOf(freshOld, old))} / ${pct(within(freshOld, old))}; without GI ${pct(successRate(plain))} / ${pct(within(plain.success, plain))}; ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    expect(rateOf(fresh, r)).toBeGreaterThanOrEqual(0.9);
    expect(agreement(r, fresh)).toBeGreaterThanOrEqual(0.9);
    expect(rateOf(freshOld, old)).toBeLessThan(0.3);
    expect(within(fresh, r)).toBeGreaterThan(within(freshOld, old));
    expect(total(r)).toBe(oracle.queries);
    for (const q of r.queries) expect(q).toBeLessThanOrEqual(2000);
  }, 120_000);
});

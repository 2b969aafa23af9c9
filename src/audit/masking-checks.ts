// docs/design.md §5's gradient-masking checks (Carlini et al. 2019; AutoAttack's flags) with their evidence, the
// PGD ε-sweep point they share with the robust-accuracy sweep, and the zero-gradient share of a configuration.
import { ops, noGrad } from '../autodiff/index.ts';
import { PGD, WhiteBox, EOT } from '../attacks/index.ts';
import type { DefendedModel } from '../defense/index.ts';
import { gatherBatch, type ImageSet } from '../nn/index.ts';
import { Tensor } from '../tensor/index.ts';
import type { Budgets } from './attack-suite.ts';
import { blackBoxChecks } from './black-box-check.ts';
import type { AttackSummary, Check } from './report-types.ts';
import { rate, verdicts } from './verdicts.ts';

/** The factors the monotone-in-eps check has always used: run first, in this order, so its numbers stay as they were. */
const CHECK_SWEEP_FACTORS = [0.25, 0.5, 1] as const;

/** What the checks attack: the audit's query subset (its first `nq` images) under the audit's budgets and seed. */
export interface QuerySubset {
  /** The test split (its first rows are the randomness probe). */
  test: ImageSet;
  xq: Tensor;
  yq: Tensor;
  nq: number;
  /** Labels of the audit's subset, in order (the query subset's are the first `nq`). */
  labels: readonly number[];
  budgets: Budgets;
  seed: number;
  log: (line: string) => void;
}

/** Share of rows whose float32 cross-entropy input gradient is exactly zero in every component. */
export function zeroGradientShare(model: DefendedModel, x: Tensor, y: Tensor): number {
  let zero = 0;
  const d = x.size / x.shape[0];
  for (let s = 0; s < x.shape[0]; s += 256) {
    const rows = Math.min(256, x.shape[0] - s);
    const xb = new Tensor(
      [rows, ...x.shape.slice(1)],
      (x.data as Float32Array).subarray(s * d, (s + rows) * d),
    );
    const yb = new Tensor([rows], (y.data as Float32Array).subarray(s, s + rows));
    const dx = model.lossGradients(xb, (z) => ops.sum(ops.crossEntropy(z, yb)), {
      input: true,
    }).dx!;
    for (let r = 0; r < rows; r++)
      if (dx.data.subarray(r * d, (r + 1) * d).every((v) => v === 0)) zero++;
  }
  return zero / x.shape[0];
}

/**
 * PGD (CW margin loss) at `f` × the L∞ budget on the query subset, EOT(4) with κ 5 and every step for
 * randomized models: the monotone-in-eps check's attack, also the robust-accuracy sweep's. `broken` per image
 * by the audit's verdict (most of 10 fresh queries for randomized models).
 */
export async function sweepPoint(
  q: QuerySubset,
  m: DefendedModel,
  randomized: boolean,
  f: number,
): Promise<{ eps: number; successRate: number; broken: boolean[] }> {
  const b = q.budgets;
  const target = randomized ? new EOT(new WhiteBox(m), { n: 4 }) : new WhiteBox(m);
  const r = await new PGD({
    eps: b.linf * f,
    alpha: b.pgdAlpha * f,
    steps: b.pgdSteps,
    loss: 'cw',
    seed: q.seed,
    ...(randomized ? { kappa: 5, earlyStop: false } : {}),
  }).run(target, q.xq, q.yq);
  const v = randomized ? verdicts(m, r.xAdv, q.labels.slice(0, q.nq)).majority : r.success;
  return { eps: b.linf * f, successRate: rate(v, r.cleanCorrect), broken: v };
}

/**
 * What the masking checks measure on a configuration (its own attacks, independent of the suite's results): the PGD
 * ε sweep, the unbounded run and the randomness probe. Plain data, so a distributed audit's job can return it.
 */
export interface CheckMeasures {
  sweep: { eps: number; successRate: number }[];
  /** Per sweep factor (CHECK_SWEEP_FACTORS), the per-image verdicts of its PGD run, as '0'/'1'. */
  sweepBroken: Record<string, string>;
  /** Images of the query subset the unbounded run attacked, and its success rate among the clean-correct ones. */
  unboundedN: number;
  unboundedRate: number;
  /** Whether two identical queries returned different logits. */
  differs: boolean;
}

/** Runs the checks' own attacks on `m` (the order of its random draws is the order the checks have always used). */
export async function measureChecks(
  q: QuerySubset,
  m: DefendedModel,
  randomized: boolean,
): Promise<CheckMeasures> {
  const sweep: { eps: number; successRate: number }[] = [];
  const sweepBroken: Record<string, string> = {};
  const target = () => (randomized ? new EOT(new WhiteBox(m), { n: 4 }) : new WhiteBox(m));
  // The sweep and the unbounded run use the query subset (the first nq images of the audit's subset).
  const [cq, xs, ys] = [q.nq, q.xq, q.yq];
  for (const f of CHECK_SWEEP_FACTORS) {
    const { eps, successRate, broken } = await sweepPoint(q, m, randomized, f);
    sweep.push({ eps, successRate });
    sweepBroken[String(f)] = broken.map((b) => (b ? '1' : '0')).join('');
  }
  const unbounded = await new PGD({
    eps: Infinity,
    alpha: 0.05,
    steps: 100,
    loss: 'cw',
    randomStart: false,
    seed: q.seed,
    ...(randomized ? { kappa: 5, earlyStop: false } : {}),
  }).run(target(), xs, ys);
  const unboundedRate = rate(
    randomized ? verdicts(m, unbounded.xAdv, q.labels.slice(0, cq)).majority : unbounded.success,
    unbounded.cleanCorrect,
  );
  const probe = gatherBatch(q.test, [0, 1, 2, 3], 0, 4).x;
  const z1 = noGrad(() => m.forward(probe)),
    z2 = noGrad(() => m.forward(probe));
  const differs = Array.from(z1.data).some((v, i) => v !== z2.data[i]);
  return { sweep, sweepBroken, unboundedN: cq, unboundedRate, differs };
}

/** The checks, judged from their measures, the suite's results and the zero-gradient share, in the report's order. */
export function judgeChecks(
  measured: CheckMeasures,
  attacks: readonly AttackSummary[],
  zeroShare: number,
): { checks: Check[]; sweepBroken: Map<number, boolean[]> } {
  const get = (id: string) => attacks.find((a) => a.id === id);
  const checks: Check[] = [];
  checks.push({
    id: 'zero-gradients',
    pass: zeroShare <= 0.1,
    evidence: `${(100 * zeroShare).toFixed(1)}% of inputs have an exactly-zero float32 cross-entropy input gradient (flag above 10%)`,
  });
  const fgsm = get('fgsm'),
    pgd = get('pgd-ce');
  if (fgsm && pgd)
    checks.push({
      id: 'iterative-beats-single-step',
      pass: pgd.successRate >= fgsm.successRate,
      evidence: `PGD ${(100 * pgd.successRate).toFixed(1)}% vs FGSM ${(100 * fgsm.successRate).toFixed(1)}%`,
    });
  // ε sweep with PGD (CW loss) on the query subset (EOT for randomized models); its per-image verdicts are
  // kept for the robust-accuracy sweep.
  const { sweep } = measured;
  const monotone = sweep.every((s, i) => i === 0 || s.successRate >= sweep[i - 1].successRate);
  checks.push({
    id: 'monotone-in-eps',
    pass: monotone,
    evidence: sweep
      .map((s) => `ε ${s.eps.toFixed(3)}: ${(100 * s.successRate).toFixed(1)}%`)
      .join(', '),
    sweep,
  });
  const ur = measured.unboundedRate;
  checks.push({
    id: 'unbounded-reaches-100',
    pass: ur === 1,
    evidence: `unbounded PGD (CW loss, 100 × 0.05) breaks ${(100 * ur).toFixed(1)}% of ${measured.unboundedN}`,
  });
  // AutoAttack's flag, per image and threat model: a black-box attack breaking images no white-box attack of its norm broke.
  checks.push(...blackBoxChecks(attacks));
  checks.push({
    id: 'randomness-needs-eot',
    pass: !measured.differs,
    evidence: measured.differs
      ? 'two identical queries returned different logits: randomized, EOT required (eot-pgd run)'
      : 'deterministic: identical queries return identical logits',
  });
  const sweepBroken = new Map(
    Object.entries(measured.sweepBroken).map(([f, b]): [number, boolean[]] => [
      Number(f),
      [...b].map((c) => c === '1'),
    ]),
  );
  return { checks, sweepBroken };
}

/** The gradient-masking checks of one configuration: measured, then judged against the suite's results. */
export async function maskingChecks(
  q: QuerySubset,
  m: DefendedModel,
  attacks: AttackSummary[],
  zeroShare: number,
  randomized: boolean,
  tag: string,
): Promise<{ checks: Check[]; sweepBroken: Map<number, boolean[]> }> {
  const judged = judgeChecks(await measureChecks(q, m, randomized), attacks, zeroShare);
  q.log(
    `${tag}: checks ${judged.checks.map((c) => `${c.id} ${c.pass ? 'pass' : 'FLAG'}`).join(', ')}`,
  );
  return judged;
}

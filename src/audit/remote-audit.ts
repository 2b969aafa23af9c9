// The black-box audit of a running server (docs/design.md §4–§6): Square L∞ on the scores it reveals, or
// HopSkipJump L∞ from labels alone, through an HttpOracle, so every query is a real, budgeted request.
// Budgets end it early with a partial report, never a crash.
import {
  HopSkipJump,
  takeRows,
  type HttpOracle,
  Square,
  QueryBudgetExceeded,
  median,
  type Attack,
  type AttackResult,
} from '../attacks/index.ts';
import { deriveStream } from '../hash/index.ts';
import type { Tensor } from '../tensor/index.ts';
import type { Check, RemoteAttackSummary, RemoteAuditReport } from './report-types.ts';
import { rate, tallyVerdicts, VERDICT_QUERIES } from './verdicts.ts';

/** The black-box attacks a remote audit runs: Square L∞ (needs scores) and HopSkipJump L∞ (labels). */
export type RemoteAttackId = 'square' | 'hsj';

/** What runRemoteAudit attacks (an HttpOracle and images in [0, 1]) and how. */
export interface RemoteAuditInput {
  oracle: HttpOracle;
  /** Server base URL (for the report). */
  url: string;
  x: Tensor;
  y: Tensor;
  /** L∞ radii: Square runs once per ε; HopSkipJump runs once (minimum norm) and is counted within each ε. */
  eps: number[];
  /** Queries per image for Square and for HopSkipJump (defaults 1000 and 1000). */
  squareQueries?: number;
  hsjQueries?: number;
  /** Default: Square when the server reveals scores, else HopSkipJump. */
  attacks?: RemoteAttackId[];
  seed: number;
  /** Images per attack run (default 32): a budget that runs out loses only the group in flight. */
  groupSize?: number;
  dataset: string;
  indexSha256?: string | null;
  command: string;
  progress?: (line: string) => void;
}

/** Slack of "the perturbation fits the ε-ball" for minimum-norm results (float32 pixels). */
const fits = (norm: number, eps: number) => norm <= eps * (1 + 1e-6) + 1e-7;

/** A planned run: one attack over every group; `at` lists the budgets its rows are reported at. */
interface Plan {
  id: RemoteAttackId;
  make: (seed: number) => Attack;
  at: number[];
  describe: string;
}

/**
 * Runs the black-box audit through `oracle`: a clean check, then each attack in groups of `groupSize` images
 * (group g seeded deriveStream(seed, g)), verdicts by most of 10 fresh queries on a randomized model, and the
 * monotone-in-ε check over Square's sweep. A QueryBudgetExceeded (the server's 429 or the client's budget)
 * drops the group in flight and ends the audit: the report keeps what finished and says why it stopped.
 */
export async function runRemoteAudit(input: RemoteAuditInput): Promise<RemoteAuditReport> {
  const t0 = performance.now();
  const log = input.progress ?? (() => {});
  const { oracle, x, y } = input;
  const n = x.shape[0],
    labels = Array.from(y.data, Math.round);
  const eps = [...input.eps].sort((a, b) => a - b);
  if (!eps.length || !eps.every((e) => e >= 0))
    throw new Error(
      `remote audit: eps must be a non-empty list of radii ≥ 0, got [${input.eps.join(', ')}]`,
    );
  const ids = input.attacks ?? [oracle.kind === 'scores' ? 'square' : 'hsj'];
  if (ids.includes('square') && oracle.kind !== 'scores')
    throw new Error(
      `remote audit: Square needs scores; model '${oracle.info.name}' serves labels only (use hsj)`,
    );
  const randomized = oracle.info.randomized;
  const verdictQueries = randomized ? VERDICT_QUERIES : 1;
  const groupSize = input.groupSize ?? 32;
  const q0 = oracle.queries;
  let stopped: string | null = null;

  /** Per row: misclassified by most of / any of / the first of `verdictQueries` fresh queries. */
  async function verdicts(xs: Tensor, ls: readonly number[], first?: readonly number[]) {
    const predictions: (readonly number[])[] = [];
    for (let q = 0; q < verdictQueries; q++)
      predictions.push(q === 0 && first ? first : await oracle.predict(xs));
    return tallyVerdicts(ls, predictions);
  }

  const plans: Plan[] = [];
  for (const id of ids) {
    if (id === 'square') {
      for (const e of eps)
        plans.push({
          id,
          at: [e],
          describe: `Square L∞ on returned ${oracle.info.scores} (margin loss), over HTTP`,
          make: (seed) => new Square({ eps: e, maxQueries: input.squareQueries ?? 1000, seed }),
        });
    } else {
      plans.push({
        id,
        at: eps,
        describe: 'HopSkipJump L∞ (labels only, minimum norm, counted within ε), over HTTP',
        make: (seed) =>
          new HopSkipJump({ norm: 'linf', maxQueries: input.hsjQueries ?? 1000, seed }),
      });
    }
  }

  let cleanCorrect: boolean[] = [];
  try {
    cleanCorrect = (await verdicts(x, labels)).majority.map((w) => !w);
    log(
      `clean accuracy ${((100 * cleanCorrect.filter(Boolean).length) / n).toFixed(2)}% on ${n} (${oracle.kind} access${randomized ? ', randomized' : ''})`,
    );
  } catch (e) {
    if (!(e instanceof QueryBudgetExceeded)) throw e;
    stopped = e.message;
  }

  const attacks: RemoteAttackSummary[] = [];
  for (const plan of plans) {
    const ta = performance.now(),
      qa = oracle.queries;
    // Per attacked image: its result row, verdicts on its adversarial point, queries, norms.
    const done: {
      i: number;
      r: AttackResult;
      k: number;
      v: { majority: boolean; any: boolean; single: boolean };
    }[] = [];
    let why: string | null = stopped;
    for (let g = 0; !why && g * groupSize < n; g++) {
      const rows = Array.from(
        { length: Math.min(groupSize, n - g * groupSize) },
        (_, k) => g * groupSize + k,
      );
      try {
        const r = await plan
          .make(deriveStream(input.seed, g))
          .run(oracle, takeRows(x, rows), takeRows(y, rows));
        const v = await verdicts(
          r.xAdv,
          rows.map((i) => labels[i]),
          r.predictions,
        );
        rows.forEach((i, k) =>
          done.push({
            i,
            r,
            k,
            v: { majority: v.majority[k], any: v.any[k], single: v.single[k] },
          }),
        );
      } catch (e) {
        // The group in flight is dropped: its attack or its verdicts did not finish.
        if (!(e instanceof QueryBudgetExceeded)) throw e;
        why = stopped = e.message;
      }
    }
    const seconds = (performance.now() - ta) / 1000,
      queries = oracle.queries - qa;
    const correct = done.map((d) => cleanCorrect[d.i]);
    const name = plan.make(input.seed).name;
    for (const e of plan.at) {
      // Minimum-norm results count at ε only when they fit its ball (docs/design.md §4); Square's always do.
      const within = done.map((d) => fits(d.r.norms.linf[d.k], e));
      const hit = (pick: 'majority' | 'any' | 'single') =>
        done.map((d, j) => d.v[pick] && within[j]);
      const majority = hit('majority');
      const broken = done.filter((_, j) => majority[j] && correct[j]);
      attacks.push({
        id: plan.id,
        name,
        describe: plan.describe,
        norm: 'linf',
        eps: e,
        n: done.length,
        successRate: rate(majority, correct),
        successAny: rate(hit('any'), correct),
        successSingle: rate(hit('single'), correct),
        medianL2: median(broken.map((d) => d.r.norms.l2[d.k])),
        medianLinf: median(broken.map((d) => d.r.norms.linf[d.k])),
        medianQueries: median(done.map((d) => d.r.queries[d.k])),
        queries,
        seconds,
        stopped: done.length < n ? why : null,
      });
      log(
        `${plan.id} ε ${e}: ${(100 * attacks.at(-1)!.successRate).toFixed(1)}% on ${done.length} of ${n} (${queries} queries, ${seconds.toFixed(1)} s)${why ? ` — stopped: ${why}` : ''}`,
      );
    }
  }

  const checks: Check[] = [];
  const sweep = attacks
    .filter((a) => a.id === 'square' && a.n > 0 && a.n === n)
    .map((a) => ({ eps: a.eps, successRate: a.successRate }));
  if (sweep.length >= 2) {
    const monotone = sweep.every((s, i) => i === 0 || s.successRate >= sweep[i - 1].successRate);
    checks.push({
      id: 'monotone-in-eps',
      pass: monotone,
      evidence: `Square: ${sweep.map((s) => `ε ${s.eps.toFixed(3)}: ${(100 * s.successRate).toFixed(1)}%`).join(', ')}`,
      sweep,
    });
  }
  const info = oracle.info;
  return {
    format: 1,
    kind: 'remote',
    server: {
      url: input.url,
      model: info.name,
      access: oracle.kind,
      scores: info.scores,
      randomized,
      backend: info.backend,
      weightsSha256: info.weightsSha256,
      defense: info.defense,
    },
    dataset: input.dataset,
    command: input.command,
    date: new Date().toISOString(),
    n,
    seed: input.seed,
    indexSha256: input.indexSha256 ?? null,
    verdictQueries,
    cleanAccuracy: cleanCorrect.length ? cleanCorrect.filter(Boolean).length / n : null,
    attacks,
    checks,
    queries: oracle.queries - q0,
    stopped,
    seconds: (performance.now() - t0) / 1000,
  };
}

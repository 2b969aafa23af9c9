// APGD (Croce & Hein 2020): PGD with momentum and a step size that halves at checkpoints when progress
// stalls, each halving restarting from the best point so far; APGD-CE and APGD-DLR, L∞ (L2 optional), and
// the search, its run and option check (apgdSearch, runApgd, checkApgdOptions), shared with APGD-T.
import { noGrad } from '../autodiff/index.ts';
import { deriveStream } from '../hash/index.ts';
import { Tensor } from '../tensor/index.ts';
import { randomStart } from './random-start.ts';
import { finish, project, putRows, rowSize, start, takeRows } from './evaluate.ts';
import { attackLoss, type LossName } from './losses.ts';
import { stepFrom } from './pgd.ts';
import {
  argmaxRows,
  QueryBudgetExceeded,
  requireGradientTarget,
  type GradientTarget,
  type Target,
} from './target.ts';
import { intAtLeast, type Attack, type AttackResult, type Budget } from './types.ts';

/** What `start` knows of a batch: labels, clean predictions and the per-example query counters. */
export type Started = Awaited<ReturnType<typeof start>>;

export interface ApgdOptions {
  norm?: 'linf' | 'l2';
  /** Radius of the ball (default 0.3 for L∞, 2 for L2: the design's MNIST budgets). */
  eps?: number;
  /** Iterations N_iter per restart (default 100, the paper's). */
  steps?: number;
  /** 'ce' → APGD-CE, 'dlr' → APGD-DLR (default 'ce'); the other PGD losses also run. */
  loss?: LossName;
  /** Momentum α (default 0.75). */
  momentum?: number;
  /** ρ of the oscillation condition (default 0.75). */
  rho?: number;
  /** Random restarts; later ones retry only the examples not yet broken (default 1). */
  restarts?: number;
  /** Seed of the random starts (default 0). */
  seed?: number;
}

/**
 * Checkpoints w_j = ⌈p_j·N⌉ with p_0 = 0, p_1 = 0.22, p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06), up to N
 * (N = 100 → 0, 22, 41, 57, 70, 80, 87, 93, 99).
 */
export function apgdCheckpoints(steps: number): number[] {
  // NOTE: p in hundredths keeps the recurrence exact (0.22 + 0.19 is 0.41000000000000003 in floats, whose
  // ceiling at N = 100 would be 42).
  const p = [0, 22];
  while (p[p.length - 1] < 100)
    p.push(p[p.length - 1] + Math.max(p[p.length - 1] - p[p.length - 2] - 3, 6));
  const w: number[] = [];
  for (const pj of p) {
    const v = Math.ceil((pj * steps) / 100);
    if (v <= steps && (!w.length || v > w[w.length - 1])) w.push(v);
  }
  return w;
}

/** The options APGD and APGD-T share, with AutoAttack's defaults (100 steps, momentum 0.75, ρ 0.75). */
export function apgdDefaults(opts: {
  norm?: 'linf' | 'l2';
  eps?: number;
  steps?: number;
  momentum?: number;
  rho?: number;
  seed?: number;
}) {
  const norm = opts.norm ?? 'linf';
  return {
    norm,
    eps: opts.eps ?? (norm === 'linf' ? 0.3 : 2),
    steps: opts.steps ?? 100,
    momentum: opts.momentum ?? 0.75,
    rho: opts.rho ?? 0.75,
    seed: opts.seed ?? 0,
  };
}

/**
 * APGD, Croce & Hein 2020, "Reliable evaluation of adversarial robustness with an ensemble of diverse
 * parameter-free attacks" (arXiv 2003.01690). Norm L∞ (or L2); inputs in [0, 1]. Defaults: ε 0.3 (L2: 2),
 * 100 iterations, loss 'ce', momentum 0.75, ρ 0.75, 1 restart, seed 0; initial step 2ε.
 *
 * From a random start x⁰ of the ball, z = P(xᵏ + η·sign∇f) (L2: ∇f/‖∇f‖₂) and
 * xᵏ⁺¹ = P(xᵏ + α(z − xᵏ) + (1 − α)(xᵏ − xᵏ⁻¹)) (the first step without momentum). At each checkpoint w_j,
 * per example, η halves and the iterate restarts from the highest-loss point when (1) the loss rose in fewer
 * than ρ·(w_j − w_{j−1}) of the steps since w_{j−1}, or (2) η was not halved at w_{j−1} and the best loss
 * has not improved since. Each example keeps its first misclassifying iterate (and stops there), else its
 * highest-loss iterate. One gradient evaluation per active example per iteration, N + 1 per restart.
 *
 * @example
 *   const r = await new APGD({ eps: 0.3, loss: 'dlr' }).run(new WhiteBox(model), x, y);
 *   console.log(r.name, successRate(r));
 */
export class APGD implements Attack {
  readonly name: string;
  readonly opts: Required<ApgdOptions>;

  constructor(opts: ApgdOptions = {}) {
    this.opts = { ...apgdDefaults(opts), loss: opts.loss ?? 'ce', restarts: opts.restarts ?? 1 };
    const o = this.opts;
    checkApgdOptions('APGD', opts, o, ['restarts', o.restarts]);
    this.name = `APGD-${o.loss.toUpperCase()}${o.norm === 'l2' ? '-L2' : ''}`;
  }

  run(target: Target, x: Tensor, y: Tensor): Promise<AttackResult> {
    const o = this.opts;
    return runApgd(this.name, target, x, y, o, (s) => {
      const loss = namedLoss(o.loss, s.labels);
      return Array.from({ length: o.restarts }, () => loss);
    });
  }
}

/**
 * Throws unless the options APGD and APGD-T share are valid and `count` (APGD's restarts, APGD-T's targets:
 * its name and value) is an integer ≥ 1; `who` and the options as given go into the message.
 */
export function checkApgdOptions(
  who: string,
  opts: object,
  o: ApgdSearchOptions,
  count: [name: string, value: number],
): void {
  if (
    !(o.eps >= 0) ||
    !intAtLeast(o.steps, 1) ||
    !intAtLeast(count[1], 1) ||
    !(o.momentum > 0 && o.momentum <= 1) ||
    !(o.rho > 0 && o.rho <= 1)
  ) {
    throw new Error(
      `${who}: invalid options ${JSON.stringify(opts)} (eps ≥ 0, integer steps ≥ 1, ${count[0]} ≥ 1, momentum and rho in (0, 1])`,
    );
  }
}

/**
 * The run of APGD and APGD-T: refuses a target without gradients, runs the clean check, then `apgdSearch`
 * over the losses `lossesOf` makes (after any queries of its own, counted into s.queries) and the final check.
 */
export async function runApgd(
  who: string,
  target: Target,
  x: Tensor,
  y: Tensor,
  o: ApgdSearchOptions,
  lossesOf: (
    s: Started,
    target: GradientTarget,
  ) => readonly ApgdLoss[] | Promise<readonly ApgdLoss[]>,
): Promise<AttackResult> {
  requireGradientTarget(who, target);
  const s = await start(target, x, y);
  const out = await apgdSearch(target, x, s, o, await lossesOf(s, target));
  return finish(target, x, new Tensor(x.shape, out), y, { norm: o.norm, eps: o.eps }, s);
}

/** A loss APGD ascends, given the batch rows it is evaluated on (their indices in the whole batch). */
export interface ApgdLoss {
  /** The summed loss of the logits z of `rows` (a sum of per-row terms, so each row gets its own gradient). */
  sum(z: Tensor, rows: readonly number[]): Tensor;
  /** The same loss per row. */
  perRow(z: Tensor, rows: readonly number[]): number[];
}

/** The attack losses of losses.ts (APGD-CE, APGD-DLR, ...) as an ApgdLoss against the labels. */
function namedLoss(name: LossName, labels: readonly number[]): ApgdLoss {
  const of = (rows: readonly number[]) => rows.map((r) => labels[r]);
  return {
    sum: (z, rows) => attackLoss(name, z, of(rows)),
    perRow: (z, rows) => rowLosses(name, z, of(rows)),
  };
}

/** What the search reads of APGD's options. */
export type ApgdSearchOptions = Pick<
  Required<ApgdOptions>,
  'norm' | 'eps' | 'steps' | 'momentum' | 'rho' | 'seed'
>;

/**
 * The APGD search shared by APGD and APGD-T (apgd-t.ts): one run of `o.steps` iterations per entry of
 * `losses` (restart j ascends losses[j] from a random start drawn from deriveStream(seed, j)), each only on
 * the examples not yet misclassified. Counts its queries into s.queries and returns each example's first
 * misclassifying iterate, else its highest-loss one (x where it never ran). An exhausted oracle budget
 * ends it early with what it has.
 */
export async function apgdSearch(
  target: GradientTarget,
  x: Tensor,
  s: Started,
  o: ApgdSearchOptions,
  losses: readonly ApgdLoss[],
): Promise<Float32Array> {
  const budget: Budget = { norm: o.norm, eps: o.eps };
  const n = x.shape[0],
    d = rowSize(x);
  const out = Float32Array.from(x.data); // first misclassifying iterate, else the highest-loss one
  const broken = s.cleanPred.map((p, i) => p !== s.labels[i]);
  const checkpoints = apgdCheckpoints(o.steps);
  // Per-example state, indexed by example (rows are gathered per iteration).
  const cur = new Float32Array(x.size),
    prev = new Float32Array(x.size),
    grad = new Float32Array(x.size);
  const best = new Float32Array(x.size),
    gradBest = new Float32Array(x.size);
  const eta = new Float64Array(n),
    lossBest = new Float64Array(n),
    lossPrev = new Float64Array(n);
  const lossAtCheck = new Float64Array(n),
    rises = new Int32Array(n),
    halvedAtCheck = new Uint8Array(n);
  const best0 = new Uint8Array(n); // rows whose `best` holds an iterate of the current restart
  const outLoss = new Float64Array(n).fill(-Infinity); // loss of `out` over all restarts
  try {
    for (const [restart, loss] of losses.entries()) {
      let rows = s.labels.map((_, i) => i).filter((i) => !broken[i]);
      if (!rows.length) break;
      // Evaluates the iterates of `rows` (one query each), retires the misclassified rows, updates the best.
      const assess = async (): Promise<void> => {
        const xs = takeRows(new Tensor(x.shape, cur), rows);
        const active = rows; // `rows` is reassigned below; the loss closure must see this batch's rows
        const { logits, grad: g } = await target.gradient(xs, (z) => loss.sum(z, active));
        rows.forEach((r) => s.queries[r]++);
        putRows(grad, g, rows);
        const values = loss.perRow(logits, rows),
          pred = argmaxRows(logits);
        const keep: number[] = [];
        rows.forEach((r, i) => {
          if (values[i] > lossPrev[r]) rises[r]++;
          lossPrev[r] = values[i];
          if (!best0[r] || values[i] > lossBest[r]) {
            best0[r] = 1;
            lossBest[r] = values[i];
            best.set(cur.subarray(r * d, (r + 1) * d), r * d);
            gradBest.set(grad.subarray(r * d, (r + 1) * d), r * d);
          }
          const fooled = pred[i] !== s.labels[r];
          if (fooled || values[i] > outLoss[r]) {
            outLoss[r] = values[i];
            out.set(cur.subarray(r * d, (r + 1) * d), r * d);
          }
          if (fooled) broken[r] = true;
          else keep.push(r);
        });
        rows = keep;
      };
      putRows(
        cur,
        randomStart(
          takeRows(x, rows),
          o.norm,
          o.eps,
          deriveStream(o.seed, restart),
          rows,
          d,
          'sphere',
        ),
        rows,
      );
      rows.forEach((r) => {
        prev.set(cur.subarray(r * d, (r + 1) * d), r * d);
        best0[r] = 0;
        eta[r] = 2 * o.eps;
        lossPrev[r] = Infinity; // the start is no rise
        rises[r] = 0;
        halvedAtCheck[r] = 0;
      });
      await assess();
      rows.forEach((r) => (lossAtCheck[r] = lossBest[r]));
      let next = 1; // index of the next checkpoint (checkpoints[0] = 0)
      for (let k = 0; k < o.steps && rows.length; k++) {
        const xs = takeRows(x, rows),
          xk = takeRows(new Tensor(x.shape, cur), rows);
        const z = project(
          xs,
          stepFrom(
            xk,
            takeRows(new Tensor(x.shape, grad), rows),
            o.norm,
            rows.map((r) => eta[r]),
          ),
          budget,
        );
        // xᵏ⁺¹ = P(xᵏ + α(z − xᵏ) + (1 − α)(xᵏ − xᵏ⁻¹)); α = 1 on the first step (no previous iterate yet).
        const a = k === 0 ? 1 : o.momentum;
        const xPrev = takeRows(new Tensor(x.shape, prev), rows);
        const mixed = new Float32Array(xk.size);
        for (let i = 0; i < mixed.length; i++)
          mixed[i] =
            xk.data[i] + a * (z.data[i] - xk.data[i]) + (1 - a) * (xk.data[i] - xPrev.data[i]);
        putRows(prev, xk, rows);
        putRows(cur, project(xs, new Tensor(xk.shape, mixed), budget), rows);
        await assess();
        if (k + 1 !== checkpoints[next]) continue;
        const window = checkpoints[next] - checkpoints[next - 1];
        next++;
        for (const r of rows) {
          // NOTE: strict < as in the paper (Eq. 7); the reference code uses ≤.
          const oscillating = rises[r] < o.rho * window;
          const stalled = !halvedAtCheck[r] && lossBest[r] <= lossAtCheck[r];
          halvedAtCheck[r] = oscillating || stalled ? 1 : 0;
          lossAtCheck[r] = lossBest[r];
          rises[r] = 0;
          if (!halvedAtCheck[r]) continue;
          // Halve η and restart from the best point, with no momentum carried across the jump.
          eta[r] /= 2;
          cur.set(best.subarray(r * d, (r + 1) * d), r * d);
          prev.set(best.subarray(r * d, (r + 1) * d), r * d);
          grad.set(gradBest.subarray(r * d, (r + 1) * d), r * d);
          lossPrev[r] = lossBest[r];
        }
      }
    }
  } catch (e) {
    // Stopped by the oracle's budget: `out` already holds each row's best iterate so far.
    if (!(e instanceof QueryBudgetExceeded)) throw e;
  }
  return out;
}

/** Per-row values of the attack loss (the loss is a sum of per-row terms, so each row is its own sum). */
function rowLosses(loss: LossName, logits: Tensor, labels: readonly number[]): number[] {
  return noGrad(() => labels.map((l, i) => attackLoss(loss, takeRows(logits, [i]), [l]).item()));
}

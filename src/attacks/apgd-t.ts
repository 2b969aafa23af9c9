// APGD-T (Croce & Hein 2020): APGD's search ascending the targeted DLR loss, once per target class (the most
// likely wrong classes by clean logits), each run only on the examples the earlier ones left unbroken.
// The query of those target classes (queryTargetClasses) is FAB-T's too.
import { ops } from '../autodiff/index.ts';
import { Tensor } from '../tensor/index.ts';
import { apgdDefaults, checkApgdOptions, runApgd, type ApgdLoss } from './apgd.ts';
import { takeRows } from './evaluate.ts';
import type { ScoreTarget, Target } from './target.ts';
import type { Attack, AttackResult } from './types.ts';

export interface ApgdTOptions {
  norm?: 'linf' | 'l2';
  /** Radius of the ball (default 0.3 for L∞, 2 for L2: the design's MNIST budgets). */
  eps?: number;
  /** Iterations per target class (default 100, AutoAttack's). */
  steps?: number;
  /** Target classes: the most likely wrong ones by clean logits (default 9; fewer when the model has fewer). */
  targets?: number;
  /** Momentum α (default 0.75). */
  momentum?: number;
  /** ρ of the oscillation condition (default 0.75). */
  rho?: number;
  /** Seed of the random starts (default 0). */
  seed?: number;
}

/**
 * Per row, the `count` classes other than the label in descending order of the logits (ties to the lowest
 * index); fewer when the model has fewer classes.
 */
export function topWrongClasses(
  logits: Tensor,
  labels: readonly number[],
  count: number,
): number[][] {
  const k = logits.shape[1];
  return labels.map((label, i) =>
    Array.from({ length: k }, (_, j) => j)
      .filter((j) => j !== label)
      .sort((a, b) => logits.data[i * k + b] - logits.data[i * k + a] || a - b)
      .slice(0, count),
  );
}

/**
 * The `count` most likely wrong classes of each of `rows` by its clean logits (one counted query per row; []
 * for the other rows of the batch), and the target runs all rows have classes for (0 without rows). `check`
 * sees the number of classes before any is chosen (APGD-T refuses fewer than 4).
 */
export async function queryTargetClasses(
  target: ScoreTarget,
  x: Tensor,
  rows: readonly number[],
  s: { labels: readonly number[]; queries: number[] },
  count: number,
  check: (classes: number) => void = () => {},
): Promise<{ targets: number[][]; runs: number }> {
  const targets: number[][] = s.labels.map(() => []);
  if (rows.length) {
    const logits = await target.scores(takeRows(x, rows));
    check(logits.shape[1]);
    topWrongClasses(
      logits,
      rows.map((r) => s.labels[r]),
      count,
    ).forEach((t, i) => (targets[rows[i]] = t));
    rows.forEach((r) => s.queries[r]++);
  }
  const runs = rows.length ? Math.min(...rows.map((r) => targets[r].length)) : 0;
  return { targets, runs };
}

/** Row-wise descending order of z (ties to the lowest index). */
function sortedRow(z: ArrayLike<number>, i: number, k: number): number[] {
  return Array.from({ length: k }, (_, j) => j).sort(
    (a, b) => z[i * k + b] - z[i * k + a] || a - b,
  );
}

/**
 * The targeted DLR loss, summed over rows: −(z_y − z_t) / (z_π1 − (z_π3 + z_π4)/2 + 1e-12), π the descending
 * order of z (Croce & Hein 2020, Eq. 8). Maximizing it raises z_t over z_y; the denominator makes it invariant
 * to shifts and scalings of the logits. Needs at least 4 classes.
 */
export function targetedDlr(
  z: Tensor,
  labels: readonly number[],
  targets: readonly number[],
): Tensor {
  const [n, k] = z.shape;
  if (k < 4) throw new Error(`targeted DLR loss needs at least 4 classes, got ${k}`);
  const diff = new Float32Array(n * k),
    scale = new Float32Array(n * k);
  labels.forEach((y, i) => {
    diff[i * k + y] = 1;
    diff[i * k + targets[i]] = -1;
    const order = sortedRow(z.data, i, k);
    scale[i * k + order[0]] = 1;
    scale[i * k + order[2]] = -0.5;
    scale[i * k + order[3]] = -0.5;
  });
  const margin = ops.sum(ops.mul(z, new Tensor([n, k], diff)), [1]);
  const denom = ops.add(ops.sum(ops.mul(z, new Tensor([n, k], scale)), [1]), 1e-12);
  return ops.sum(ops.div(ops.neg(margin), denom));
}

/** The targeted DLR of one row of logits, in float64 (APGD's per-row bookkeeping). */
function targetedDlrRow(z: ArrayLike<number>, i: number, k: number, y: number, t: number): number {
  const order = sortedRow(z, i, k);
  const at = (j: number) => z[i * k + j];
  return -(at(y) - at(t)) / (at(order[0]) - (at(order[2]) + at(order[3])) / 2 + 1e-12);
}

/**
 * APGD-T, Croce & Hein 2020, "Reliable evaluation of adversarial robustness with an ensemble of diverse
 * parameter-free attacks" (arXiv 2003.01690), as AutoAttack runs it: for the j-th most likely wrong class t_j
 * of each example (by its clean logits, j = 1..9), one APGD run of 100 iterations ascending the targeted DLR
 * loss toward t_j, on the examples no earlier run has misclassified. Success is any misclassification, not
 * only the target class. Step size, checkpoints, momentum and ρ are APGD's (apgd.ts); run j draws its random
 * start from deriveStream(seed, j − 1). Norm L∞ (or L2); inputs in [0, 1]; at least 4 classes. Defaults: ε 0.3
 * (L2: 2), 100 iterations, 9 targets, momentum 0.75, ρ 0.75, seed 0.
 *
 * Queries per example: the clean check, one clean-logits query, at most steps + 1 per target run, the final
 * check.
 *
 * @example
 *   const r = await new APGDT({ eps: 8 / 255 }).run(new WhiteBox(model), x, y);
 *   console.log(r.name, successRate(r));
 */
export class APGDT implements Attack {
  readonly name: string;
  readonly opts: Required<ApgdTOptions>;

  constructor(opts: ApgdTOptions = {}) {
    this.opts = { ...apgdDefaults(opts), targets: opts.targets ?? 9 };
    const o = this.opts;
    checkApgdOptions('APGD-T', opts, o, ['targets', o.targets]);
    this.name = `APGD-T(dlr)${o.norm === 'l2' ? '-L2' : ''}`;
  }

  run(target: Target, x: Tensor, y: Tensor): Promise<AttackResult> {
    const o = this.opts;
    return runApgd(this.name, target, x, y, o, async (s, t) => {
      // The target classes come from the clean logits: one counted query per example still to attack.
      const { targets, runs } = await queryTargetClasses(
        t,
        x,
        s.labels.map((_, i) => i).filter((i) => s.cleanCorrect[i]),
        s,
        o.targets,
        (classes) => {
          if (classes < 4)
            throw new Error(
              `${this.name}: the targeted DLR loss needs at least 4 classes, got ${classes}`,
            );
        },
      );
      return Array.from({ length: runs }, (_, j): ApgdLoss => {
        const labelsOf = (rs: readonly number[]) => rs.map((r) => s.labels[r]);
        const targetsOf = (rs: readonly number[]) => rs.map((r) => targets[r][j]);
        return {
          sum: (z, rs) => targetedDlr(z, labelsOf(rs), targetsOf(rs)),
          perRow: (z, rs) =>
            rs.map((r, i) => targetedDlrRow(z.data, i, z.shape[1], s.labels[r], targets[r][j])),
        };
      });
    });
  }
}

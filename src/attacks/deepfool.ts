// DeepFool (Moosavi-Dezfooli, Fawzi & Frossard 2016): a minimum-norm attack that steps to the nearest
// linearized class boundary of the logits, L2 (or L∞), with overshoot 0.02 (docs/design.md §4).
import { ops } from '../autodiff/index.ts';
import { Tensor, argmaxRow } from '../tensor/index.ts';
import { fitBudget } from './cw-l2.ts';
import { finish, rowSize, start } from './evaluate.ts';
import { requireGradientTarget, type GradientTarget, type Target } from './target.ts';
import { intAtLeast, type Attack, type AttackResult } from './types.ts';

export interface DeepFoolOptions {
  /** 'l2' (default) or 'linf' (the paper's ℓp variant with p = ∞: dual ℓ1 norms, sign steps). */
  norm?: 'l2' | 'linf';
  /** The total perturbation is (1 + overshoot)·Σ r_i (default 0.02). */
  overshoot?: number;
  /** Linearization steps per example (default 50). */
  maxIterations?: number;
  /** Optional budget in `norm`: when given, an example counts as successful only if its perturbation fits. */
  eps?: number;
}

// The paper's slack added to |f_l| so each step crosses the linearized boundary rather than landing on it.
const SLACK = 1e-4;

/**
 * DeepFool (Moosavi-Dezfooli et al. 2016, "DeepFool: a simple and accurate method to fool deep neural
 * networks", arXiv:1511.04599), untargeted, L2 by default (or L∞), inputs in [0, 1], on logits. Each step,
 * for every class k ≠ y: f_k = z_k − z_y and w_k = ∇f_k (one gradient call per class, K − 1 per step; row
 * by row the class list skips that row's label, so no call is wasted); the nearest linearized boundary
 * l = argmin |f_k|/‖w_k‖ (dual norm) gives r = (|f_l| + 1e-4)·w_l/‖w_l‖₂² (L2) or (|f_l| + 1e-4)·sign(w_l)/‖w_l‖₁
 * (L∞); the iterate is x + (1 + overshoot)·Σr, clipped to [0, 1]. An example stops at its first iterate
 * whose prediction leaves y. Defaults: overshoot 0.02 (the 1e-4 slack alone is not scale-invariant: with
 * scaled logits the steps end on the boundary), 50 iterations, all classes. Minimum-norm: budget null in
 * `finish`; with `eps`, success also needs the perturbation to fit ‖δ‖ ≤ eps in `norm`.
 *
 * @example
 *   const r = await new DeepFool({ overshoot: 0.02, maxIterations: 50 }).run(new WhiteBox(model), x, y);
 *   console.log(successRate(r), median(r.norms.l2));
 */
export class DeepFool implements Attack {
  readonly name: string;
  readonly opts: Required<Omit<DeepFoolOptions, 'eps'>> & { eps: number | null };

  constructor(opts: DeepFoolOptions = {}) {
    this.opts = {
      norm: opts.norm ?? 'l2',
      overshoot: opts.overshoot ?? 0.02,
      maxIterations: opts.maxIterations ?? 50,
      eps: opts.eps ?? null,
    };
    const o = this.opts;
    if (
      !(o.overshoot >= 0) ||
      !intAtLeast(o.maxIterations, 0) ||
      (o.eps !== null && !(o.eps >= 0))
    ) {
      throw new Error(
        `DeepFool: invalid options ${JSON.stringify(opts)} (overshoot ≥ 0, integer maxIterations ≥ 0, eps ≥ 0)`,
      );
    }
    this.name = `DeepFool-${o.norm === 'l2' ? 'L2' : 'Linf'}`;
  }

  async run(target: Target, x: Tensor, y: Tensor): Promise<AttackResult> {
    requireGradientTarget(this.name, target);
    const o = this.opts;
    const s = await start(target, x, y);
    const n = x.shape[0],
      d = rowSize(x),
      shape = x.shape.slice(1);
    const best = Float32Array.from(x.data);
    const rTot = new Float64Array(n * d);
    // The j-th other class of a row: its classes in order, skipping its label.
    const other = (j: number, label: number) => (j < label ? j : j + 1);
    let rows = s.labels.map((_, i) => i).filter((i) => s.cleanCorrect[i]);
    // `best` holds every row's current iterate; after the last step finish checks it.
    for (let it = 0; it < o.maxIterations && rows.length; it++) {
      const cur = pick(best, rows, d);
      // Class j = 0 first: its logits tell which rows are already fooled, and only the others go on.
      const first = await this.classGradient(
        target,
        new Tensor([rows.length, ...shape], cur),
        rows.map((r) => s.labels[r]),
        0,
        other,
      );
      rows.forEach((r) => s.queries[r]++);
      const k = first.logits.shape[1];
      const live: number[] = [];
      rows.forEach((r, i) => {
        if (argmaxRow(first.logits.data, i * k, k) === s.labels[r]) live.push(i);
      });
      if (!live.length) break;
      const liveRows = live.map((i) => rows[i]);
      const xs = new Tensor([live.length, ...shape], pick(cur, live, d));
      // f[i][j] = z_{other j} − z_y, and its gradient per live row.
      const f = live.map((i) =>
        Array.from(
          { length: k - 1 },
          (_, j) =>
            first.logits.data[i * k + other(j, s.labels[rows[i]])] -
            first.logits.data[i * k + s.labels[rows[i]]],
        ),
      );
      const grads: Float32Array[] = [pick(first.grad.data as Float32Array, live, d)];
      for (let j = 1; j < k - 1; j++) {
        const g = await this.classGradient(
          target,
          xs,
          liveRows.map((r) => s.labels[r]),
          j,
          other,
        );
        liveRows.forEach((r) => s.queries[r]++);
        grads.push(g.grad.data as Float32Array);
      }
      const next: number[] = [];
      liveRows.forEach((r, i) => {
        // The nearest linearized boundary, in the dual norm of the attack's norm.
        let l = -1,
          bestDist = Infinity,
          bestNorm = 0;
        for (let j = 0; j < k - 1; j++) {
          const g = grads[j];
          let nrm = 0;
          for (let e = i * d; e < (i + 1) * d; e++)
            nrm += o.norm === 'l2' ? g[e] * g[e] : Math.abs(g[e]);
          if (o.norm === 'l2') nrm = Math.sqrt(nrm);
          const dist = nrm > 0 ? Math.abs(f[i][j]) / nrm : Infinity;
          if (dist < bestDist) [l, bestDist, bestNorm] = [j, dist, nrm];
        }
        if (l < 0) return; // every class gradient vanished: no direction left, the example stays unbroken
        const g = grads[l],
          step = (Math.abs(f[i][l]) + SLACK) / (o.norm === 'l2' ? bestNorm * bestNorm : bestNorm);
        for (let e = 0; e < d; e++) {
          const q = r * d + e;
          rTot[q] += step * (o.norm === 'l2' ? g[i * d + e] : Math.sign(g[i * d + e]));
          const v = x.data[q] + (1 + o.overshoot) * rTot[q];
          best[q] = v < 0 ? 0 : v > 1 ? 1 : v;
        }
        next.push(r);
      });
      rows = next;
    }
    const result = await finish(target, x, new Tensor(x.shape, best), y, null, s);
    return o.eps === null ? result : fitBudget(result, { norm: o.norm, eps: o.eps });
  }

  /** Gradient of Σ_rows z[row, other(j, y_row)] − z[row, y_row], with the logits. */
  private classGradient(
    target: GradientTarget,
    x: Tensor,
    labels: number[],
    j: number,
    other: (j: number, label: number) => number,
  ) {
    return target.gradient(x, (z) => {
      const k = z.shape[1];
      const diff = new Float32Array(labels.length * k);
      labels.forEach((y, i) => {
        diff[i * k + other(j, y)] = 1;
        diff[i * k + y] = -1;
      });
      return ops.sum(ops.mul(z, new Tensor([labels.length, k], diff)));
    });
  }
}

/** Rows `idx` of a flat [N, d] array, packed. */
function pick(data: Float32Array, idx: readonly number[], d: number): Float32Array {
  const out = new Float32Array(idx.length * d);
  idx.forEach((i, p) => out.set(data.subarray(i * d, (i + 1) * d), p * d));
  return out;
}

// MI-FGSM (Dong et al. 2018): iterated L∞ sign steps on a momentum-accumulated, ℓ1-normalized gradient,
// projected onto the ε-ball and [0, 1].
import { Tensor, argmaxRow } from '../tensor/index.ts';
import { finish, project, putRows, rowSize, start, takeRows } from './evaluate.ts';
import { attackLoss, type LossName, type LossOptions } from './losses.ts';
import { requireGradientTarget, type Target } from './target.ts';
import { intAtLeast, type Attack, type AttackResult } from './types.ts';

/** kappa (cw confidence, default 0) and temperature (ce-rescaled, default 1) come from LossOptions. */
export interface MiFgsmOptions extends LossOptions {
  /** L∞ radius (default 0.3, MNIST). */
  eps?: number;
  /** Iterations (default 10). */
  steps?: number;
  /** Step size (default eps/steps, so the steps can just reach the ball's surface). */
  alpha?: number;
  /** Momentum decay μ (default 1.0, the paper's). */
  decay?: number;
  /** Loss to maximize (default 'ce'). */
  loss?: LossName;
}

/**
 * MI-FGSM (Dong et al. 2018, "Boosting Adversarial Attacks with Momentum", arXiv:1710.06081), L∞, inputs in
 * [0, 1]: g ← μ·g + ∇/‖∇‖₁ per example, x ← Π(x + α·sign(g)). Defaults: ε 0.3, 10 steps of α = ε/10,
 * μ 1.0, cross-entropy. Deterministic (no random start). As in PGD, an example is kept at its first
 * misclassifying iterate and leaves the batch.
 *
 * @example
 *   const r = await new MIFGSM({ eps: 0.3, steps: 10, decay: 1 }).run(new WhiteBox(model), x, y);
 *   console.log(successRate(r));
 */
export class MIFGSM implements Attack {
  readonly name: string;
  readonly opts: Required<MiFgsmOptions>;

  constructor(opts: MiFgsmOptions = {}) {
    const eps = opts.eps ?? 0.3,
      steps = opts.steps ?? 10;
    this.opts = {
      eps,
      steps,
      alpha: opts.alpha ?? eps / Math.max(1, steps),
      decay: opts.decay ?? 1,
      loss: opts.loss ?? 'ce',
      kappa: opts.kappa ?? 0,
      temperature: opts.temperature ?? 1,
    };
    const o = this.opts;
    if (!(o.eps >= 0) || !(o.alpha >= 0) || !intAtLeast(o.steps, 0) || !(o.decay >= 0)) {
      throw new Error(
        `MIFGSM: invalid options ${JSON.stringify(opts)} (eps ≥ 0, alpha ≥ 0, integer steps ≥ 0, decay ≥ 0)`,
      );
    }
    this.name = `MI-FGSM(${o.loss})`;
  }

  async run(target: Target, x: Tensor, y: Tensor): Promise<AttackResult> {
    requireGradientTarget(this.name, target);
    const o = this.opts;
    const budget = { norm: 'linf' as const, eps: o.eps };
    const s = await start(target, x, y);
    const d = rowSize(x);
    const best = Float32Array.from(x.data);
    const momentum = new Float64Array(x.size); // per example (indexed by batch row, so dropping rows keeps it)
    let rows = s.labels.map((_, i) => i).filter((i) => s.cleanCorrect[i]);
    let cur = takeRows(x, rows),
      origin = cur;
    for (let step = 0; step <= o.steps && rows.length; step++) {
      if (step === o.steps) {
        putRows(best, cur, rows); // the last iterate of every row still unbroken
        break;
      }
      const labels = rows.map((r) => s.labels[r]);
      const { logits, grad } = await target.gradient(cur, (z) => attackLoss(o.loss, z, labels, o));
      rows.forEach((r) => s.queries[r]++);
      const k = logits.shape[1];
      const keep: number[] = [];
      const next = new Float32Array(cur.size);
      rows.forEach((r, i) => {
        if (argmaxRow(logits.data, i * k, k) !== s.labels[r]) {
          putRows(best, takeRows(cur, [i]), [r]); // broken at this iterate: keep it
          return;
        }
        keep.push(i);
        let l1 = 0;
        for (let e = i * d; e < (i + 1) * d; e++) l1 += Math.abs(grad.data[e]);
        const inv = l1 > 0 ? 1 / l1 : 0; // a zero gradient adds nothing to the momentum
        for (let e = 0; e < d; e++) {
          const q = r * d + e;
          momentum[q] = o.decay * momentum[q] + grad.data[i * d + e] * inv;
          next[i * d + e] = cur.data[i * d + e] + o.alpha * Math.sign(momentum[q]);
        }
      });
      const projected = project(origin, new Tensor(cur.shape, next), budget);
      rows = keep.map((i) => rows[i]);
      cur = takeRows(projected, keep);
      origin = takeRows(origin, keep);
    }
    return finish(target, x, new Tensor(x.shape, best), y, budget, s);
  }
}

// JSMA (Papernot et al. 2016): an L0 attack that saturates, pair by pair, the features whose saliency
// (from the Jacobian of probabilities, or of logits) most favours a target class over the others.
import { ops } from '../autodiff/index.ts';
import { Tensor, argmaxRow } from '../tensor/index.ts';
import { finish, rowSize, start, takeRows } from './evaluate.ts';
import { oneHotRows } from './losses.ts';
import { requireGradientTarget, type Target } from './target.ts';
import type { Attack, AttackResult } from './types.ts';

export interface JsmaOptions {
  /** Maximum distortion γ: the share of features the attack may change (default 0.1). */
  gamma?: number;
  /** Change applied to a chosen feature, clipped to [0, 1] (default +1: set it to 1; negative decreases). */
  theta?: number;
  /** Jacobian of what: softmax probabilities (default, the paper's) or logits (JSMA-Z). */
  saliency?: 'probabilities' | 'logits';
}

/** A JSMA result: the attack result plus the number of changed features per example. */
export interface JsmaResult extends AttackResult {
  /** Per example: ‖xAdv − x‖₀, the number of features that differ. */
  l0: number[];
}

/**
 * JSMA (Papernot et al. 2016, "The Limitations of Deep Learning in Adversarial Settings", arXiv:1511.07528),
 * L0, inputs in [0, 1], pixel-pair saliency. Untargeted variant: the target t of each example is its
 * second most likely class on the clean input (one counted score query per example), and an example stops
 * as soon as its prediction leaves y (for any class). Each iteration: α = ∇s_t and β = ∇Σ_{j≠t} s_j (s =
 * probabilities or logits); over pairs (p, q) still in the search domain, with θ > 0 the pair maximizes
 * (α_p + α_q)·|β_p + β_q| subject to α_p + α_q > 0 and β_p + β_q < 0 (signs flip for θ < 0); both features
 * become clip(x + θ) and leave the domain. At most ⌊γ·d/2⌋ iterations, so ≤ γ·d features change; an
 * example with no admissible pair stops unbroken. Defaults: γ 0.1, θ +1, saliency from probabilities.
 * NOTE: with probabilities Σ_j p_j ≡ 1, so β = −α exactly and one gradient call per iteration suffices
 * (logits need two); saturated softmax outputs give vanishing saliency, the weakness JSMA-Z avoids.
 *
 * @example
 *   const r = await new JSMA({ gamma: 0.1, saliency: 'logits' }).run(new WhiteBox(model), x, y);
 *   console.log(successRate(r), median(r.l0));
 */
export class JSMA implements Attack {
  readonly name: string;
  readonly opts: Required<JsmaOptions>;

  constructor(opts: JsmaOptions = {}) {
    this.opts = {
      gamma: opts.gamma ?? 0.1,
      theta: opts.theta ?? 1,
      saliency: opts.saliency ?? 'probabilities',
    };
    const o = this.opts;
    if (
      !(o.gamma >= 0 && o.gamma <= 1) ||
      !(Math.abs(o.theta) > 0) ||
      !['probabilities', 'logits'].includes(o.saliency)
    ) {
      throw new Error(
        `JSMA: invalid options ${JSON.stringify(opts)} (0 ≤ gamma ≤ 1, theta ≠ 0, saliency 'probabilities' | 'logits')`,
      );
    }
    this.name = `JSMA(${o.saliency === 'probabilities' ? 'F' : 'Z'})`;
  }

  async run(target: Target, x: Tensor, y: Tensor): Promise<JsmaResult> {
    requireGradientTarget(this.name, target);
    const o = this.opts;
    const s = await start(target, x, y);
    const d = rowSize(x),
      shape = x.shape.slice(1);
    const up = o.theta > 0;
    const maxIters = Math.floor((o.gamma * d) / 2);
    const adv = Float32Array.from(x.data);
    let rows = s.labels.map((_, i) => i).filter((i) => s.cleanCorrect[i]);
    // Target class: the second most likely on the clean input (argmax over classes other than y).
    const goal = new Array<number>(x.shape[0]).fill(-1);
    if (rows.length) {
      const z = await target.scores(takeRows(x, rows));
      const k = z.shape[1];
      rows.forEach((r, i) => {
        s.queries[r]++;
        for (let j = 0; j < k; j++)
          if (j !== s.labels[r] && (goal[r] < 0 || z.data[i * k + j] > z.data[i * k + goal[r]]))
            goal[r] = j;
      });
    }
    // Search domain per example: the features that θ can still move (below 1 to increase, above 0 to decrease).
    const domain = new Map(
      rows.map((r) => [
        r,
        Array.from({ length: d }, (_, e) => e).filter((e) =>
          up ? x.data[r * d + e] < 1 : x.data[r * d + e] > 0,
        ),
      ]),
    );
    const scoresOf = (z: Tensor) => (o.saliency === 'probabilities' ? ops.softmax(z) : z);
    // Iteration `it` has changed `it` pairs; the last state (after maxIters pairs) is checked by finish.
    for (let it = 0; it < maxIters && rows.length; it++) {
      const xs = new Tensor([rows.length, ...shape], packRows(adv, rows, d));
      const goals = rows.map((r) => goal[r]);
      const a = await target.gradient(xs, (z) =>
        ops.sum(ops.mul(scoresOf(z), oneHotRows(goals, z.shape[1]))),
      );
      rows.forEach((r) => s.queries[r]++);
      const k = a.logits.shape[1];
      const live: number[] = [];
      rows.forEach((r, i) => {
        if (argmaxRow(a.logits.data, i * k, k) === s.labels[r] && domain.get(r)!.length >= 2)
          live.push(i);
      });
      if (!live.length) break;
      const liveRows = live.map((i) => rows[i]);
      // β = ∇Σ_j s_j − α: zero for probabilities (they sum to 1), one more gradient call for logits.
      let all: Tensor | null = null;
      if (o.saliency === 'logits') {
        all = (
          await target.gradient(
            new Tensor([live.length, ...shape], packRows(adv, liveRows, d)),
            (z) => ops.sum(z),
          )
        ).grad;
        liveRows.forEach((r) => s.queries[r]++);
      }
      const next: number[] = [];
      live.forEach((i, li) => {
        const r = rows[i],
          dom = domain.get(r)!;
        const alpha = new Float64Array(dom.length),
          beta = new Float64Array(dom.length);
        dom.forEach((e, p) => {
          alpha[p] = a.grad.data[i * d + e];
          beta[p] = (all ? all.data[li * d + e] : 0) - alpha[p];
        });
        const pair = bestPair(alpha, beta, up);
        if (!pair) return; // no admissible pair: the example stops unbroken
        for (const p of pair) {
          const q = r * d + dom[p];
          adv[q] = Math.min(1, Math.max(0, adv[q] + o.theta));
        }
        domain.set(
          r,
          dom.filter((_, p) => p !== pair[0] && p !== pair[1]),
        );
        next.push(r);
      });
      rows = next;
    }
    const result = await finish(target, x, new Tensor(x.shape, adv), y, null, s);
    const l0 = result.success.map((_, r) => {
      let c = 0;
      for (let e = r * d; e < (r + 1) * d; e++) if (result.xAdv.data[e] !== x.data[e]) c++;
      return c;
    });
    return { ...result, l0 };
  }
}

/**
 * The pair (p < q) maximizing (α_p + α_q)·|β_p + β_q| with α_p + α_q > 0 and β_p + β_q < 0 (θ > 0), or
 * with both signs flipped (θ < 0); ties go to the first pair in (p, q) order. Null when none qualifies.
 */
function bestPair(alpha: Float64Array, beta: Float64Array, up: boolean): [number, number] | null {
  const sgn = up ? 1 : -1;
  let best = 0,
    bp = -1,
    bq = -1;
  for (let p = 0; p < alpha.length; p++) {
    const ap = sgn * alpha[p],
      bpv = sgn * beta[p];
    for (let q = p + 1; q < alpha.length; q++) {
      const A = ap + sgn * alpha[q],
        B = bpv + sgn * beta[q];
      if (A > 0 && B < 0 && -A * B > best) [best, bp, bq] = [-A * B, p, q];
    }
  }
  return bp < 0 ? null : [bp, bq];
}

/** Rows `rows` of a flat [N, d] array, packed into a new array. */
function packRows(data: Float32Array, rows: readonly number[], d: number): Float32Array {
  const out = new Float32Array(rows.length * d);
  rows.forEach((r, i) => out.set(data.subarray(r * d, (r + 1) * d), i * d));
  return out;
}

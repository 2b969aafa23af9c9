// Transfer attack (Szegedy et al. 2014, arXiv 1312.6199; Papernot, McDaniel & Goodfellow 2016, arXiv
// 1605.07277): craft adversarial inputs with a white-box attack on a surrogate model, then evaluate them on
// the target, which only has to answer predictions (any target kind).
import { noGrad } from '../autodiff/index.ts';
import { Tensor } from '../tensor/index.ts';
import { finish, labelsOf, putRows, start, takeRows } from './evaluate.ts';
import { argmaxRows, WhiteBox, type Differentiable, type Target } from './target.ts';
import type { Attack, AttackResult, Budget } from './types.ts';

export interface TransferOptions {
  /** The white-box attack run on the source (e.g. PGD ε 0.3, 40 × 0.01). */
  attack: Attack;
  /** The surrogate the attacker can differentiate. */
  source: Differentiable;
  /**
   * κ: the inner attack sees a row as misclassified only once the source misclassifies it by a logit margin
   * above κ. Default Infinity: it never does, so an early-stopping attack (PGD keeps the first misclassifying
   * iterate) takes every step, as textbook transfer does. Measured mnist-mlp → mnist-lenet5, 200 images,
   * PGD ε 0.3 40 × 0.01: κ 0 transfers 0.5%, κ 20 7%, κ ∞ 46.5% (barely-adversarial points do not transfer).
   * Use 0 for inner attacks that read the scores as their objective or minimize the norm (Square, C&W).
   */
  confidence?: number;
  /** Ball for the final projection. Default: the inner attack's `opts.{norm, eps}` if it has them, else none. */
  budget?: Budget | null;
}

/** The transfer result plus what happened on the source (its queries cost the target nothing). */
export interface TransferResult extends AttackResult {
  source: { success: boolean[]; queries: number };
}

/** The inner attack's budget, read from a PGD-style `opts` field (FGSM/BIM hide it: their output is already in it). */
export function budgetOf(attack: Attack): Budget | null {
  const o = (attack as { opts?: { norm?: unknown; eps?: unknown } }).opts;
  return o && (o.norm === 'linf' || o.norm === 'l2') && typeof o.eps === 'number'
    ? { norm: o.norm, eps: o.eps }
    : null;
}

/** The source with κ added to one class's logit (the label of every row it is asked about). */
function heldAt(model: Differentiable, label: number, kappa: number): Differentiable {
  const shift = (z: Tensor) => {
    const out = Float32Array.from(z.data);
    const k = z.shape[1];
    for (let i = 0; i < z.shape[0]; i++) out[i * k + label] += kappa;
    return new Tensor(z.shape, out);
  };
  return {
    inputShape: model.inputShape,
    forward: (x) => shift(noGrad(() => model.forward(x))),
    // The loss is the inner attack's own on the true logits; only the logits it checks success on move.
    lossGradients: (x, loss, want) => {
      const r = model.lossGradients(x, loss, want);
      return { ...r, logits: shift(r.logits) };
    },
  };
}

/**
 * Runs `attack` white-box on `source` for every row of x. With κ > 0 rows are grouped by label so the
 * source wrapper knows which logit to hold up. Returns the adversarial batch, the source's own verdict on it
 * and the source queries spent.
 */
export async function craftOnSource(
  source: Differentiable,
  attack: Attack,
  x: Tensor,
  y: Tensor,
  confidence: number,
): Promise<{ xAdv: Tensor; sourceSuccess: boolean[]; sourceQueries: number }> {
  const labels = labelsOf(y);
  const out = new Float32Array(x.size);
  let queries = 0;
  const groups =
    confidence > 0
      ? [...new Set(labels)].map((c) => ({
          c,
          rows: labels.flatMap((l, i) => (l === c ? [i] : [])),
        }))
      : [{ c: -1, rows: labels.map((_, i) => i) }];
  for (const { c, rows } of groups) {
    const wb = new WhiteBox(c < 0 ? source : heldAt(source, c, confidence));
    const r = await attack.run(wb, takeRows(x, rows), takeRows(y, rows));
    putRows(out, r.xAdv, rows);
    queries += wb.queries;
  }
  const xAdv = new Tensor(x.shape, out);
  const pred = x.shape[0] ? argmaxRows(noGrad(() => source.forward(xAdv))) : [];
  return {
    xAdv,
    sourceSuccess: pred.map((p, i) => p !== labels[i]),
    sourceQueries: queries + x.shape[0],
  };
}

/**
 * Transfer: one counted prediction per row on the target before (clean) and one after (adversarial); the
 * crafting happens entirely on `WhiteBox(source)`. Norm and budget are the inner attack's.
 *
 * @example
 *   const t = new Transfer({ attack: new PGD({ eps: 0.3, steps: 40 }), source: denseModel });
 *   const r = await t.run(new LabelOracle(defendedModel), x, y); // r.queries: 2 per row
 */
export class Transfer implements Attack {
  readonly name: string;
  constructor(readonly opts: TransferOptions) {
    if (!(opts.confidence === undefined || opts.confidence >= 0))
      throw new Error(`Transfer: confidence must be ≥ 0, got ${opts.confidence}`);
    this.name = `Transfer(${opts.attack.name})`;
  }

  async run(target: Target, x: Tensor, y: Tensor): Promise<TransferResult> {
    const s = await start(target, x, y);
    const c = await craftOnSource(
      this.opts.source,
      this.opts.attack,
      x,
      y,
      this.opts.confidence ?? Infinity,
    );
    const budget = this.opts.budget !== undefined ? this.opts.budget : budgetOf(this.opts.attack);
    const r = await finish(target, x, c.xAdv, y, budget, s);
    return { ...r, source: { success: c.sourceSuccess, queries: c.sourceQueries } };
  }
}

// EOT, Expectation over Transformation (Athalye, Engstrom, Ilyas & Kwok 2018, arXiv 1707.07397; used
// against randomized defenses in Athalye, Carlini & Wagner 2018, arXiv 1802.00420): a target wrapper that
// averages n draws of a randomized target's gradients, losses, logits and scores.
import { Tensor } from '../tensor/index.ts';
import { argmaxRows, isGradientTarget, type GradientTarget, type ScoreTarget } from './target.ts';
import { intAtLeast } from './types.ts';

export interface EotOptions {
  /** Draws averaged per evaluation (default 8; the audit's checks use 10 fresh queries for the verdict). */
  n?: number;
}

/** Element-wise mean of same-shaped tensors, accumulated in float64 and stored as float32. */
function meanOf(ts: readonly Tensor[]): Tensor {
  const acc = new Float64Array(ts[0].size);
  for (const t of ts) {
    if (t.size !== acc.length)
      throw new Error(
        `EOT: draws disagree in shape ([${t.shape.join(', ')}] vs [${ts[0].shape.join(', ')}])`,
      );
    for (let i = 0; i < acc.length; i++) acc[i] += t.data[i];
  }
  const out = new Float32Array(acc.length);
  for (let i = 0; i < acc.length; i++) out[i] = acc[i] / ts.length;
  return new Tensor(ts[0].shape, out);
}

/**
 * Wraps a target whose every evaluation draws fresh randomness (GI `random`, input noise, random resizing):
 * `gradient()` returns the mean of n draws' gradients, losses and logits; `scores()` the mean of n draws'
 * scores; `predict()` the argmax of the mean scores. Every draw is a call on the inner target, so the inner
 * target counts n queries per row and `queries` (delegated) stays exact. The wrapper adds no randomness of
 * its own: the draws are the inner target's, so it is as reproducible as that target.
 *
 * NOTE: an attack's per-example `AttackResult.queries` counts calls on the target it was given, so through
 * EOT each counted call stands for n inner queries; `target.queries` is the exact total.
 *
 * Input range [0, 1] (whatever the inner target accepts). Keeps the inner target's kind: a white-box inner
 * target gives a white-box EOT (gradient attacks: PGD, APGD), a score target a score EOT (Square).
 *
 * @example
 *   const eot = new EOT(new WhiteBox(randomizedModel), { n: 8 });
 *   const r = await new PGD({ eps: 0.3, steps: 40 }).run(eot, x, y);
 */
export class EOT<T extends ScoreTarget = GradientTarget> implements ScoreTarget {
  readonly kind: T['kind'];
  readonly n: number;

  constructor(
    private readonly inner: T,
    opts: EotOptions = {},
  ) {
    this.n = opts.n ?? 8;
    if (!intAtLeast(this.n, 1)) throw new Error(`EOT: n must be an integer ≥ 1, got ${opts.n}`);
    this.kind = inner.kind;
  }

  get inputShape(): readonly number[] {
    return this.inner.inputShape;
  }

  /** The inner target's count: n per row for every EOT evaluation. */
  get queries(): number {
    return this.inner.queries;
  }

  /** The inner target's: a mean of n draws is still a random answer, so verdicts still take most of 10. */
  get randomized(): boolean {
    return this.inner.randomized === true;
  }

  async scores(x: Tensor): Promise<Tensor> {
    const draws: Tensor[] = [];
    for (let i = 0; i < this.n; i++) draws.push(await this.inner.scores(x));
    return meanOf(draws);
  }

  async predict(x: Tensor): Promise<number[]> {
    return argmaxRows(await this.scores(x));
  }

  /** Mean over n draws of the summed loss, the logits and the input gradient (white-box inner targets only). */
  async gradient(
    x: Tensor,
    loss: (logits: Tensor) => Tensor,
  ): Promise<{ loss: number; logits: Tensor; grad: Tensor }> {
    const inner: ScoreTarget = this.inner;
    if (!isGradientTarget(inner))
      throw new Error(`EOT: gradient() needs a white-box inner target, got a ${inner.kind} target`);
    let lossSum = 0;
    const logits: Tensor[] = [],
      grads: Tensor[] = [];
    for (let i = 0; i < this.n; i++) {
      const r = await inner.gradient(x, loss);
      lossSum += r.loss;
      logits.push(r.logits);
      grads.push(r.grad);
    }
    return { loss: lossSum / this.n, logits: meanOf(logits), grad: meanOf(grads) };
  }
}

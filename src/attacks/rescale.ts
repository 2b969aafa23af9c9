// LogitRescale: a model whose logits are divided by a temperature T, the wrapper form of the `ce-rescaled`
// loss (Carlini & Wagner 2017's observation that logit scaling only hides the gradient; Carlini et al. 2019,
// arXiv 1902.06705). Undoes the GI `scale` variant for any loss and any attack.
import { noGrad, ops } from '../autodiff/index.ts';
import type { Tensor } from '../tensor/index.ts';
import type { Differentiable } from './target.ts';

/**
 * forward(x) = model(x) / T. The division happens inside the differentiated loss, so ∂L/∂z = (1/T)·∂L/∂(z/T):
 * a softmax that saturates at z (float32 CE gradient exactly 0) does not at z/T, and the 1/T factor keeps
 * the gradient's direction (what sign- and normalized-step attacks use). Predictions are unchanged for T > 0.
 * Pick T near the defense's logit scale (1e2 for GI `scale` α = 100); too large a T underflows instead.
 *
 * @example
 *   const r = await new PGD({ loss: 'ce' }).run(new WhiteBox(new LogitRescale(scaledModel, 100)), x, y);
 */
export class LogitRescale implements Differentiable {
  readonly inputShape: readonly number[];
  constructor(
    private readonly model: Differentiable,
    readonly temperature: number,
  ) {
    if (!(temperature > 0) || !Number.isFinite(temperature))
      throw new Error(`LogitRescale: temperature must be finite and > 0, got ${temperature}`);
    this.inputShape = model.inputShape;
  }

  /** The wrapped model's: dividing by T adds no randomness and removes none. */
  get randomized(): boolean {
    return this.model.randomized === true;
  }

  forward(x: Tensor): Tensor {
    return ops.div(this.model.forward(x), this.temperature);
  }

  lossGradients(
    x: Tensor,
    loss: (logits: Tensor) => Tensor,
    want: { input?: boolean; params?: boolean },
  ) {
    const t = this.temperature;
    const r = this.model.lossGradients(x, (z) => loss(ops.div(z, t)), want);
    return { loss: r.loss, logits: noGrad(() => ops.div(r.logits, t)), dx: r.dx };
  }
}

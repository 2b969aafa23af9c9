// BPDA, Backward Pass Differentiable Approximation (Athalye, Carlini & Wagner 2018, "Obfuscated Gradients
// Give a False Sense of Security", arXiv 1802.00420): a model behind a non-differentiable preprocessing stage,
// differentiated as if the stage were the identity (or a given differentiable approximation of it).
import { gradients, noGrad, ops } from '../autodiff/index.ts';
import { sameShape, shapeStr, type Tensor } from '../tensor/index.ts';
import type { Differentiable } from './target.ts';

export interface BpdaOptions {
  /** The non-differentiable stage f (quantization, thresholding, JPEG, denoising); shape-preserving. */
  stage: (x: Tensor) => Tensor;
  /** The model behind it. */
  model: Differentiable;
  /**
   * A differentiable g with g(x) ≈ f(x), written with the autodiff ops; its vector-Jacobian product replaces
   * the stage's on the backward pass. Default: the identity (the usual choice when f(x) ≈ x).
   */
  approximation?: (x: Tensor) => Tensor;
}

/**
 * forward(x) = model(f(x)) exactly; lossGradients(x) = ∂L/∂z at z = f(x), pulled back through g (identity
 * by default: the gradient at f(x) is returned as the gradient at x). The forward pass, logits and loss are
 * the true ones, only the backward pass is approximated. Wrap it in `WhiteBox` to attack it.
 *
 * Inputs NCHW in [0, 1]. The stage runs with recording off, so it may be any TypeScript function of tensors.
 *
 * @example
 *   const quantized = new BPDA({ stage: (x) => quantize(x, 4), model });
 *   const r = await new PGD({ eps: 0.3, steps: 40 }).run(new WhiteBox(quantized), x, y);
 */
export class BPDA implements Differentiable {
  readonly inputShape: readonly number[];
  /** The wrapped model's: replacing a stage's backward pass does not make its randomness go away. */
  get randomized(): boolean {
    return (this.opts.model as { randomized?: boolean }).randomized === true;
  }

  constructor(private readonly opts: BpdaOptions) {
    this.inputShape = opts.model.inputShape;
  }

  /** The stage's output, checked to keep the input's shape (the identity backward needs it). */
  private staged(x: Tensor): Tensor {
    const z = noGrad(() => this.opts.stage(x));
    if (!sameShape(z.shape, x.shape))
      throw new Error(
        `BPDA: stage changed the shape ${shapeStr(x.shape)} → ${shapeStr(z.shape)}; the identity backward needs it kept`,
      );
    return z;
  }

  forward(x: Tensor): Tensor {
    return this.opts.model.forward(this.staged(x));
  }

  lossGradients(
    x: Tensor,
    loss: (logits: Tensor) => Tensor,
    want: { input?: boolean; params?: boolean },
  ) {
    if (want.params)
      throw new Error(
        'BPDA: parameter gradients are not exposed (the wrapper is for input-gradient attacks)',
      );
    const r = this.opts.model.lossGradients(this.staged(x), loss, { input: Boolean(want.input) });
    let dx = r.dx;
    const g = this.opts.approximation;
    if (dx && g) {
      // Vector-Jacobian product of g at x with v = ∂L/∂z: the gradient of <g(x), v> with respect to x.
      const v = dx;
      dx = gradients(() => ops.sum(ops.mul(g(x), v)), [x]).grads[0];
    }
    return { loss: r.loss, logits: r.logits, dx };
  }
}

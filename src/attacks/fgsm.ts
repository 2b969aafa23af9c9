// FGSM (Goodfellow et al. 2015, "Explaining and Harnessing Adversarial Examples"): one L∞ step of size ε
// along the sign of the loss gradient, from the clean input.
import type { Tensor } from '../tensor/index.ts';
import type { LossName } from './losses.ts';
import { PGD } from './pgd.ts';
import type { Target } from './target.ts';
import type { Attack, AttackResult } from './types.ts';

export interface FgsmOptions {
  /** L∞ radius (default 0.3, MNIST). */
  eps?: number;
  loss?: LossName;
}

/**
 * FGSM = one PGD step with α = ε and no random start.
 * @example
 *   const r = await new FGSM({ eps: 0.3 }).run(new WhiteBox(model), x, y);
 */
export class FGSM implements Attack {
  readonly name: string;
  private readonly pgd: PGD;
  constructor(opts: FgsmOptions = {}) {
    const eps = opts.eps ?? 0.3;
    this.pgd = new PGD({
      norm: 'linf',
      eps,
      alpha: Math.max(eps, Number.MIN_VALUE),
      steps: 1,
      restarts: 1,
      randomStart: false,
      loss: opts.loss ?? 'ce',
    });
    this.name = `FGSM(${opts.loss ?? 'ce'})`;
  }
  run(target: Target, x: Tensor, y: Tensor): Promise<AttackResult> {
    return this.pgd.run(target, x, y);
  }
}

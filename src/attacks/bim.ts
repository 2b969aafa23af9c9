// BIM / I-FGSM (Kurakin, Goodfellow & Bengio 2017, "Adversarial Examples in the Physical World"): iterated
// L∞ sign steps from the clean input, projected onto the ε-ball; PGD without the random start.
import type { Tensor } from '../tensor/index.ts';
import type { LossName } from './losses.ts';
import { PGD } from './pgd.ts';
import type { Target } from './target.ts';
import type { Attack, AttackResult } from './types.ts';

export interface BimOptions {
  eps?: number;
  alpha?: number;
  steps?: number;
  loss?: LossName;
}

/**
 * BIM with defaults ε 0.3, α 0.01, 40 steps.
 * @example
 *   const r = await new BIM({ eps: 0.3, alpha: 0.01, steps: 40 }).run(new WhiteBox(model), x, y);
 */
export class BIM implements Attack {
  readonly name: string;
  private readonly pgd: PGD;
  constructor(opts: BimOptions = {}) {
    this.pgd = new PGD({
      norm: 'linf',
      eps: opts.eps ?? 0.3,
      alpha: opts.alpha ?? 0.01,
      steps: opts.steps ?? 40,
      randomStart: false,
      loss: opts.loss ?? 'ce',
    });
    this.name = this.pgd.name;
  }
  run(target: Target, x: Tensor, y: Tensor): Promise<AttackResult> {
    return this.pgd.run(target, x, y);
  }
}

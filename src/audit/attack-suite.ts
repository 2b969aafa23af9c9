// The attacks an audit runs, with their budgets (docs/design.md §4 standard budgets) and the table each one
// belongs to: the paper's era (FGSM, BIM, JSMA on probabilities, C&W-L2) and the adaptive set.
import { APGD } from '../attacks/apgd.ts';
import { BIM } from '../attacks/bim.ts';
import { CW } from '../attacks/cw-l2.ts';
import { EOT } from '../attacks/eot.ts';
import { FGSM } from '../attacks/fgsm.ts';
import { HopSkipJump } from '../attacks/hopskipjump.ts';
import { JSMA } from '../attacks/jsma.ts';
import { PGD } from '../attacks/pgd.ts';
import { Square } from '../attacks/square.ts';
import { LabelOracle, ScoreOracle, WhiteBox, type Differentiable, type Target } from '../attacks/target.ts';
import { Transfer } from '../attacks/transfer.ts';
import type { Attack } from '../attacks/types.ts';
import type { DefendedModel } from '../defense/defended-model.ts';

export interface Budgets {
  linf: number;
  l2: number;
  pgdSteps: number;
  pgdAlpha: number;
  squareQueries: number;
  hsjQueries: number;
  /**
   * C&W-L2's Adam learning rate in tanh space (absent: CW's default 0.1, tuned on MNIST). On natural images most
   * pixels sit mid-range where tanh is steep, so 0.1 moves every one of 3072 pixels by ~0.05 per step and the
   * search ends far from the minimum norm.
   */
  cwLearningRate?: number;
}

/** MNIST-scale inputs (docs/design.md §4): L∞ 0.3 (PGD 40 × 0.01), L2 2, Square 5000, HSJA 5000 queries. */
export const MNIST_BUDGETS: Budgets = { linf: 0.3, l2: 2, pgdSteps: 40, pgdAlpha: 0.01, squareQueries: 5000, hsjQueries: 5000 };
/**
 * CIFAR-10: L∞ 8/255 (PGD 10 × 2/255), L2 0.5, C&W at lr 0.01 (the reference code's): on the dense cifar10-cnn,
 * first 40 test images, lr 0.1 found a median L2 of 0.647 (14 of 40 within 0.5), lr 0.01 a median of 0.115
 * (38 of 40) at twice the gradients.
 */
export const CIFAR_BUDGETS: Budgets = { linf: 8 / 255, l2: 0.5, pgdSteps: 10, pgdAlpha: 2 / 255, squareQueries: 5000, hsjQueries: 5000, cwLearningRate: 0.01 };

export interface SuiteEntry {
  id: string;
  table: 'paper' | 'adaptive';
  /** 'full' runs on all n images; 'query' on the first nQuery (score- and decision-based attacks). */
  subset: 'full' | 'query';
  /** Only for randomized configurations (EOT). */
  randomizedOnly?: boolean;
  describe: string;
  make(model: DefendedModel, ctx: { dense: Differentiable; seed: number; b: Budgets }): { attack: Attack; target: Target };
}

export const SUITE: SuiteEntry[] = [
  {
    id: 'fgsm', table: 'paper', subset: 'full', describe: 'FGSM, L∞ ε, cross-entropy',
    make: (m, { b }) => ({ attack: new FGSM({ eps: b.linf }), target: new WhiteBox(m) }),
  },
  {
    id: 'bim', table: 'paper', subset: 'full', describe: 'BIM, L∞ ε, steps × α, cross-entropy',
    make: (m, { b }) => ({ attack: new BIM({ eps: b.linf, alpha: b.pgdAlpha, steps: b.pgdSteps }), target: new WhiteBox(m) }),
  },
  {
    id: 'jsma', table: 'paper', subset: 'query', describe: 'JSMA, saliency from softmax probabilities, ≤ 10% of features',
    make: (m) => ({ attack: new JSMA({ saliency: 'probabilities' }), target: new WhiteBox(m) }),
  },
  {
    id: 'cw', table: 'paper', subset: 'query', describe: 'C&W-L2 on logits, counted within L2 ε',
    make: (m, { b }) => ({ attack: new CW({ eps: b.l2, learningRate: b.cwLearningRate }), target: new WhiteBox(m) }),
  },
  {
    id: 'pgd-ce', table: 'adaptive', subset: 'full', describe: 'PGD L∞, cross-entropy (reference for the checks)',
    make: (m, { b, seed }) => ({ attack: new PGD({ eps: b.linf, alpha: b.pgdAlpha, steps: b.pgdSteps, seed }), target: new WhiteBox(m) }),
  },
  {
    id: 'pgd-cw', table: 'adaptive', subset: 'full', describe: 'PGD L∞, CW margin loss on logits',
    make: (m, { b, seed }) => ({ attack: new PGD({ eps: b.linf, alpha: b.pgdAlpha, steps: b.pgdSteps, loss: 'cw', seed }), target: new WhiteBox(m) }),
  },
  {
    id: 'apgd-dlr', table: 'adaptive', subset: 'full', describe: 'APGD-DLR, L∞ ε, 100 iterations',
    make: (m, { b, seed }) => ({ attack: new APGD({ eps: b.linf, loss: 'dlr', seed }), target: new WhiteBox(m) }),
  },
  {
    id: 'pgd-ce-rescaled', table: 'adaptive', subset: 'full', describe: 'PGD L∞, cross-entropy on logits / 100',
    make: (m, { b, seed }) => ({ attack: new PGD({ eps: b.linf, alpha: b.pgdAlpha, steps: b.pgdSteps, loss: 'ce-rescaled', temperature: 100, seed }), target: new WhiteBox(m) }),
  },
  {
    id: 'eot-pgd', table: 'adaptive', subset: 'full', randomizedOnly: true, describe: 'EOT(8)-PGD L∞, CW margin loss (κ 5), every step',
    // Every step (no early stop) and a margin κ: the point must sit well inside the wrong class, or the next
    // fresh query of the randomized model flips it back.
    make: (m, { b, seed }) => ({ attack: new PGD({ eps: b.linf, alpha: b.pgdAlpha, steps: b.pgdSteps, loss: 'cw', kappa: 5, earlyStop: false, seed }), target: new EOT(new WhiteBox(m), { n: 8 }) }),
  },
  {
    id: 'cw-logits', table: 'adaptive', subset: 'query', describe: 'C&W-L2 on logits (minimum norm; counted within L2 ε)',
    make: (m, { b }) => ({ attack: new CW({ eps: b.l2, learningRate: b.cwLearningRate }), target: new WhiteBox(m) }),
  },
  {
    id: 'transfer', table: 'adaptive', subset: 'full', describe: 'transfer: PGD L∞ on the dense model, evaluated here',
    make: (m, { b, dense, seed }) => ({
      attack: new Transfer({ attack: new PGD({ eps: b.linf, alpha: b.pgdAlpha, steps: b.pgdSteps, seed }), source: dense }),
      target: new LabelOracle(m),
    }),
  },
  {
    id: 'square', table: 'adaptive', subset: 'query', describe: 'Square L∞ on returned logits (margin loss)',
    make: (m, { b, seed }) => ({ attack: new Square({ eps: b.linf, maxQueries: b.squareQueries, seed }), target: new ScoreOracle(m) }),
  },
  {
    id: 'hsj', table: 'adaptive', subset: 'query', describe: 'HopSkipJump L2 (labels only), counted within L2 ε',
    make: (m, { b, seed }) => ({ attack: new HopSkipJump({ norm: 'l2', maxQueries: b.hsjQueries, eps: b.l2, seed }), target: new LabelOracle(m) }),
  },
];

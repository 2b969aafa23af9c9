// The attacks an audit runs, with their budgets (docs/design.md §4 standard budgets) and the table each one
// belongs to: the paper's era (FGSM, BIM, JSMA on probabilities, C&W-L2) and the adaptive set, which includes
// the opt-in AutoAttack cascades; and the named suites (--suite) that select entries.
import {
  APGD,
  AutoAttack,
  BIM,
  CW,
  EOT,
  FGSM,
  HopSkipJump,
  JSMA,
  PGD,
  Square,
  LabelOracle,
  ScoreOracle,
  WhiteBox,
  type Differentiable,
  type Target,
  Transfer,
  type Attack,
} from '../attacks/index.ts';
import type { DefendedModel } from '../defense/index.ts';

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
export const MNIST_BUDGETS: Budgets = {
  linf: 0.3,
  l2: 2,
  pgdSteps: 40,
  pgdAlpha: 0.01,
  squareQueries: 5000,
  hsjQueries: 5000,
};
/**
 * CIFAR-10: L∞ 8/255 (PGD 10 × 2/255), L2 0.5, C&W at lr 0.01 (the reference code's): on the dense cifar10-cnn,
 * first 40 test images, lr 0.1 found a median L2 of 0.647 (14 of 40 within 0.5), lr 0.01 a median of 0.115
 * (38 of 40) at twice the gradients.
 */
export const CIFAR_BUDGETS: Budgets = {
  linf: 8 / 255,
  l2: 0.5,
  pgdSteps: 10,
  pgdAlpha: 2 / 255,
  squareQueries: 5000,
  hsjQueries: 5000,
  cwLearningRate: 0.01,
};

/**
 * The budgets at another L∞ radius (audit --eps): the PGD step scales with ε, so the steps cross the same multiple
 * of the ball (MNIST: 40 × ε/30, 1.33 ε in all); the L2 and query budgets stay.
 */
export function budgetsAtEps(b: Budgets, eps: number): Budgets {
  return { ...b, linf: eps, pgdAlpha: (b.pgdAlpha * eps) / b.linf };
}

export interface SuiteEntry {
  id: string;
  /**
   * The threat model its successes count in: L∞ at the budget's ε, L2 at its L2 ε, or L0 (JSMA). Robust accuracy
   * is a statement about one threat model, so it takes the per-image worst case over the L∞ attacks only.
   */
  norm: 'linf' | 'l2' | 'l0';
  table: 'paper' | 'adaptive';
  /** 'full' runs on all n images; 'query' on the first nQuery (score- and decision-based attacks). */
  subset: 'full' | 'query';
  /** Only for randomized configurations (EOT). */
  randomizedOnly?: boolean;
  /** Only for deterministic configurations (a randomized one gets the EOT counterpart instead). */
  deterministicOnly?: boolean;
  /** Runs only when asked for (--attacks or --suite), never by default: the AutoAttack cascades cost far more. */
  optIn?: boolean;
  /**
   * Runs in chunks of images with a checkpoint after each (run-entry.ts): for the cascades, which take hours on
   * a randomized CIFAR-10 model and would otherwise lose everything to one interruption.
   */
  chunked?: boolean;
  describe: string;
  make(
    model: DefendedModel,
    ctx: { dense: Differentiable; seed: number; b: Budgets },
  ): { attack: Attack; target: Target };
}

export const SUITE: SuiteEntry[] = [
  {
    id: 'fgsm',
    norm: 'linf',
    table: 'paper',
    subset: 'full',
    describe: 'FGSM, L∞ ε, cross-entropy',
    make: (m, { b }) => ({ attack: new FGSM({ eps: b.linf }), target: new WhiteBox(m) }),
  },
  {
    id: 'bim',
    norm: 'linf',
    table: 'paper',
    subset: 'full',
    describe: 'BIM, L∞ ε, steps × α, cross-entropy',
    make: (m, { b }) => ({
      attack: new BIM({ eps: b.linf, alpha: b.pgdAlpha, steps: b.pgdSteps }),
      target: new WhiteBox(m),
    }),
  },
  {
    id: 'jsma',
    norm: 'l0',
    table: 'paper',
    subset: 'query',
    describe: 'JSMA, saliency from softmax probabilities, ≤ 10% of features',
    make: (m) => ({ attack: new JSMA({ saliency: 'probabilities' }), target: new WhiteBox(m) }),
  },
  {
    id: 'cw',
    norm: 'l2',
    table: 'paper',
    subset: 'query',
    describe: 'C&W-L2 on logits, counted within L2 ε',
    make: (m, { b }) => ({
      attack: new CW({ eps: b.l2, learningRate: b.cwLearningRate }),
      target: new WhiteBox(m),
    }),
  },
  {
    id: 'pgd-ce',
    norm: 'linf',
    table: 'adaptive',
    subset: 'full',
    describe: 'PGD L∞, cross-entropy (reference for the checks)',
    make: (m, { b, seed }) => ({
      attack: new PGD({ eps: b.linf, alpha: b.pgdAlpha, steps: b.pgdSteps, seed }),
      target: new WhiteBox(m),
    }),
  },
  {
    id: 'pgd-cw',
    norm: 'linf',
    table: 'adaptive',
    subset: 'full',
    describe: 'PGD L∞, CW margin loss on logits',
    make: (m, { b, seed }) => ({
      attack: new PGD({ eps: b.linf, alpha: b.pgdAlpha, steps: b.pgdSteps, loss: 'cw', seed }),
      target: new WhiteBox(m),
    }),
  },
  {
    id: 'apgd-dlr',
    norm: 'linf',
    table: 'adaptive',
    subset: 'full',
    describe: 'APGD-DLR, L∞ ε, 100 iterations',
    make: (m, { b, seed }) => ({
      attack: new APGD({ eps: b.linf, loss: 'dlr', seed }),
      target: new WhiteBox(m),
    }),
  },
  {
    id: 'pgd-ce-rescaled',
    norm: 'linf',
    table: 'adaptive',
    subset: 'full',
    describe: 'PGD L∞, cross-entropy on logits / 100 (randomized: over EOT(8), every step)',
    // Randomized: as eot-pgd, EOT(8) and every step. mnist-lenet5-h8 + GI random, 40 images, most of 10 fresh
    // queries: 97.4% plain, 95.0% EOT(8) stopping at the first misclassifying mean, 100% EOT(8) every step.
    make: (m, { b, seed }) => ({
      attack: new PGD({
        eps: b.linf,
        alpha: b.pgdAlpha,
        steps: b.pgdSteps,
        loss: 'ce-rescaled',
        temperature: 100,
        seed,
        ...(m.randomized ? { earlyStop: false } : {}),
      }),
      target: m.randomized ? new EOT(new WhiteBox(m), { n: 8 }) : new WhiteBox(m),
    }),
  },
  {
    id: 'eot-pgd',
    norm: 'linf',
    table: 'adaptive',
    subset: 'full',
    randomizedOnly: true,
    describe: 'EOT(8)-PGD L∞, CW margin loss (κ 5), every step',
    // Every step (no early stop) and a margin κ: the point must sit well inside the wrong class, or the next
    // fresh query of the randomized model flips it back.
    make: (m, { b, seed }) => ({
      attack: new PGD({
        eps: b.linf,
        alpha: b.pgdAlpha,
        steps: b.pgdSteps,
        loss: 'cw',
        kappa: 5,
        earlyStop: false,
        seed,
      }),
      target: new EOT(new WhiteBox(m), { n: 8 }),
    }),
  },
  {
    id: 'cw-logits',
    norm: 'l2',
    table: 'adaptive',
    subset: 'query',
    describe:
      'C&W-L2 on logits (minimum norm; counted within L2 ε; randomized: over EOT(8), κ 0.2 spreads)',
    // Randomized: EOT(8) and a margin κ of 0.2 clean-logit spreads, or the minimum-norm point sits on the mean
    // boundary and fresh queries flip it back. mnist-lenet5-h8 + GI random, 40 images, most of 10 fresh queries
    // within L2 2: 20% plain, 28% EOT(8), 93% / 97% / 95% EOT(8) at κ 0.1 / 0.2 / 0.3 (median L2 0.91 / 0.96 /
    // 1.00; 0.83 without GI).
    make: (m, { b }) => ({
      attack: new CW({
        eps: b.l2,
        learningRate: b.cwLearningRate,
        ...(m.randomized ? { kappa: 0.2 } : {}),
      }),
      target: m.randomized ? new EOT(new WhiteBox(m), { n: 8 }) : new WhiteBox(m),
    }),
  },
  {
    id: 'transfer',
    norm: 'linf',
    table: 'adaptive',
    subset: 'full',
    describe: 'transfer: PGD L∞ on the dense model, evaluated here',
    make: (m, { b, dense, seed }) => ({
      attack: new Transfer({
        attack: new PGD({ eps: b.linf, alpha: b.pgdAlpha, steps: b.pgdSteps, seed }),
        source: dense,
      }),
      target: new LabelOracle(m),
    }),
  },
  {
    id: 'square',
    norm: 'linf',
    table: 'adaptive',
    subset: 'query',
    describe: 'Square L∞ on returned logits (margin loss)',
    make: (m, { b, seed }) => ({
      attack: new Square({ eps: b.linf, maxQueries: b.squareQueries, seed }),
      target: new ScoreOracle(m),
    }),
  },
  {
    id: 'hsj',
    norm: 'l2',
    table: 'adaptive',
    subset: 'query',
    describe: 'HopSkipJump L2 (labels only), counted within L2 ε',
    make: (m, { b, seed }) => ({
      attack: new HopSkipJump({ norm: 'l2', maxQueries: b.hsjQueries, eps: b.l2, seed }),
      target: new LabelOracle(m),
    }),
  },
  {
    id: 'autoattack',
    norm: 'linf',
    table: 'adaptive',
    subset: 'full',
    optIn: true,
    chunked: true,
    deterministicOnly: true,
    describe: 'AutoAttack L∞ ε: APGD-CE, APGD-T, FAB-T, Square in cascade',
    // AutoAttack's standard version sees the model in full: Square reads the logits of the same white-box target.
    make: (m, { b, seed }) => ({
      attack: new AutoAttack({ eps: b.linf, squareQueries: b.squareQueries, seed }),
      target: new WhiteBox(m),
    }),
  },
  {
    id: 'autoattack-rand',
    norm: 'linf',
    table: 'adaptive',
    subset: 'full',
    optIn: true,
    chunked: true,
    randomizedOnly: true,
    describe: 'AutoAttack-rand L∞ ε: APGD-CE, APGD-DLR over EOT(20) in cascade',
    make: (m, { b, seed }) => ({
      attack: new AutoAttack({ eps: b.linf, version: 'rand', seed }),
      target: new EOT(new WhiteBox(m), { n: 20 }),
    }),
  },
];

/**
 * Named suites (`audit --suite NAME`, AuditInput.suite): the entries each runs. `default` is what an audit runs
 * when given neither --attacks nor --suite. `autoattack` evaluates every configuration AutoAttack-grade, as
 * AutoAttack advises: the standard cascade on deterministic configurations, the rand version on randomized ones.
 */
export const NAMED_SUITES: Readonly<Record<string, readonly string[]>> = {
  default: SUITE.filter((e) => !e.optIn).map((e) => e.id),
  autoattack: ['autoattack', 'autoattack-rand'],
  'autoattack-rand': ['autoattack-rand'],
};

/**
 * The attack ids an audit runs: `attacks` plus every named suite in `suite` (comma-separated, so
 * 'default,autoattack' is the whole adaptive set plus the AutoAttack cascades); neither given = the default suite.
 */
export function suiteIds(attacks?: readonly string[], suite?: string): string[] {
  const suites = suite === undefined ? [] : suite.split(',').map((s) => s.trim());
  const unknown = suites.find((s) => !NAMED_SUITES[s]);
  if (unknown !== undefined)
    throw new Error(
      `audit: unknown suite ${unknown} (known: ${Object.keys(NAMED_SUITES).join(', ')})`,
    );
  if (!attacks && !suites.length) return [...NAMED_SUITES.default];
  return [...new Set([...(attacks ?? []), ...suites.flatMap((s) => NAMED_SUITES[s])])];
}

// Substitute attack (Papernot, McDaniel, Goodfellow, Jha, Celik & Swami 2017, "Practical Black-Box Attacks
// against Machine Learning", arXiv 1602.02697): train a local model from the target's labels on a small seed
// set grown by Jacobian-based augmentation, then transfer a white-box attack crafted on it.
import { ops } from '../autodiff/index.ts';
import { deriveStream, permutation } from '../hash/index.ts';
import {
  architecture,
  type ArchName,
  type ImageSet,
  initParams,
  type LayerSpec,
  adam,
  Sequential,
  trainEpoch,
} from '../nn/index.ts';
import { Tensor } from '../tensor/index.ts';
import { finish, rowSize, start, takeRows } from './evaluate.ts';
import { FGSM } from './fgsm.ts';
import { oneHotRows } from './losses.ts';
import { QueryBudgetExceeded, type Target } from './target.ts';
import { budgetOf, craftOnSource, type TransferResult } from './transfer.ts';
import { intAtLeast, type Attack } from './types.ts';

export interface SubstituteOptions {
  /** Attack crafted on the trained substitute and transferred (default FGSM ε 0.3, the paper's MNIST choice). */
  attack?: Attack;
  /** Substitute architecture (default 'mlp', 784-300-100-10: see the class doc for why). */
  architecture?: ArchName | LayerSpec[];
  /**
   * The initial set S0, inputs only (its labels are queried). Default: the first `seedSize` rows of the
   * attacked batch, whose labels are the clean predictions the attack pays for anyway (no extra queries).
   * The paper uses 150 test images held out from the attacked ones: pass them here to reproduce that.
   */
  seedSet?: Tensor;
  /** Rows of the attacked batch used as S0 when no seedSet is given (default 150). */
  seedSize?: number;
  /** ρ: augmentation rounds (default 4: |S| = 150·2^4 = 2400; the paper goes to 6 = 9600). */
  rounds?: number;
  /** λ: augmentation step (default 0.1). */
  lambda?: number;
  /** τ: λ flips sign every τ rounds (the paper's periodic step size, default 3). */
  tau?: number;
  /** Training epochs after each round (default 10, as the paper). */
  epochs?: number;
  /** Mini-batch size (default 32). */
  batchSize?: number;
  /** Adam learning rate (default 1e-3). */
  lr?: number;
  /**
   * Label queries this attack may spend in all: training plus the clean and final check (2 per attacked
   * row). Default Infinity. The last round is cut to what is left (a seeded choice of its new points).
   * Set it to the target's own budget: a target that refuses a batch first stops the augmentation there,
   * but then the final check may not fit.
   */
  queryBudget?: number;
  /** κ for crafting on the substitute (see Transfer; default Infinity: early-stopping attacks take every step). */
  confidence?: number;
  /** Seed of initialization, shuffling and truncation (default 0). */
  seed?: number;
  /**
   * Output classes of the substitute. Default: 1 + the largest label seen before training (y, clean
   * predictions, seed labels); pass it when the batch may miss the top class (targets do not expose it).
   */
  classes?: number;
}

export interface SubstituteResult extends TransferResult {
  /** Label queries spent training the substitute (seed labels and augmentation); oracle total = this + Σ queries. */
  trainingQueries: number;
  /** Training-set size after each round (round 0 = the seed set). */
  trainingSizes: number[];
  /** The substitute's agreement with the target's clean labels on the attacked batch (no extra queries). */
  agreement: number;
  substitute: Sequential;
}

const QUERY_CHUNK = 500;
const JACOBIAN_CHUNK = 256;

/**
 * Papernot et al.'s Algorithm 1. S0 is labelled by the target; after each training the set doubles:
 * S ← S ∪ {clip(x + λ_ρ·sign(∂F_{O(x)}/∂x))} with F the substitute's logits, O(x) the target's label and
 * λ_ρ = λ·(−1)^⌊ρ/τ⌋; the new points are labelled by the target. Training reuses the project's trainer
 * (trainEpoch: Sequential.lossGradients + Adam, seeded order), continuing across rounds. Every label query is
 * counted: `trainingQueries` + Σ `queries` equals the target's count.
 *
 * Default substitute: the MLP. The paper found the substitute's architecture matters less than its data
 * (its Table 3), the attacker of a deployed model does not know the architecture (MLP → CNN is the honest
 * cross-architecture case), and the MLP trains several times faster than LeNet-5 on the CPU kernels.
 * Inputs NCHW in [0, 1]; works with any target (labels only are needed).
 *
 * @example
 *   const sub = new Substitute({ seedSet: holdout, rounds: 4, queryBudget: 3000, seed: 1 });
 *   const r = await sub.run(new LabelOracle(model, { budget: 3000 }), x, y);
 */
export class Substitute implements Attack {
  readonly name: string;
  readonly opts: Required<Omit<SubstituteOptions, 'seedSet' | 'classes'>> & {
    seedSet: Tensor | null;
    classes: number | null;
  };

  constructor(opts: SubstituteOptions = {}) {
    const attack = opts.attack ?? new FGSM({ eps: 0.3 });
    this.opts = {
      attack,
      architecture: opts.architecture ?? 'mlp',
      seedSet: opts.seedSet ?? null,
      seedSize: opts.seedSize ?? 150,
      rounds: opts.rounds ?? 4,
      lambda: opts.lambda ?? 0.1,
      tau: opts.tau ?? 3,
      epochs: opts.epochs ?? 10,
      batchSize: opts.batchSize ?? 32,
      lr: opts.lr ?? 1e-3,
      queryBudget: opts.queryBudget ?? Infinity,
      confidence: opts.confidence ?? Infinity,
      seed: opts.seed ?? 0,
      classes: opts.classes ?? null,
    };
    const o = this.opts;
    if (
      !intAtLeast(o.rounds, 0) ||
      !intAtLeast(o.epochs, 1) ||
      !intAtLeast(o.tau, 1) ||
      !(o.seedSize >= 1)
    ) {
      throw new Error(
        `Substitute: invalid options (integer rounds ≥ 0, epochs ≥ 1, tau ≥ 1, seedSize ≥ 1)`,
      );
    }
    this.name = `Substitute(${attack.name})`;
  }

  async run(target: Target, x: Tensor, y: Tensor): Promise<SubstituteResult> {
    const o = this.opts;
    const n = x.shape[0];
    if (o.seedSet && o.seedSet.shape.slice(1).join() !== target.inputShape.join()) {
      throw new Error(
        `Substitute: seed set must be [M, ${target.inputShape.join(', ')}], got [${o.seedSet.shape.join(', ')}]`,
      );
    }
    if (o.queryBudget < 2 * n)
      throw new Error(
        `Substitute: query budget ${o.queryBudget} is below the 2 checks per attacked row (${2 * n})`,
      );
    const s = await start(target, x, y);
    let left = o.queryBudget - 2 * n; // training queries still allowed (finish's n are reserved)
    let spent = 0;

    /** Target labels for the rows of `pts`, in chunks; stops early at either budget (returns the labelled prefix). */
    const label = async (pts: Tensor): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < pts.shape[0] && left > 0; i += QUERY_CHUNK) {
        const rows = Array.from(
          { length: Math.min(QUERY_CHUNK, pts.shape[0] - i, left) },
          (_, k) => i + k,
        );
        try {
          out.push(...(await target.predict(takeRows(pts, rows))));
        } catch (e) {
          if (e instanceof QueryBudgetExceeded) {
            left = 0;
            break;
          } // the target's own budget is tighter
          throw e;
        }
        spent += rows.length;
        left -= rows.length;
      }
      return out;
    };

    // S0 and its labels.
    let set: Tensor, labels: number[];
    if (o.seedSet) {
      labels = await label(o.seedSet);
      set = takeRows(
        o.seedSet,
        labels.map((_, i) => i),
      );
    } else {
      const rows = Array.from({ length: Math.min(o.seedSize, n) }, (_, i) => i);
      set = takeRows(x, rows);
      labels = rows.map((r) => s.cleanPred[r]);
    }
    if (!labels.length)
      throw new Error('Substitute: the query budget leaves no labelled seed points');

    const inputShape = target.inputShape;
    const classes = o.classes ?? Math.max(...s.cleanPred, ...labels, ...s.labels) + 1;
    if (labels.some((l) => l >= classes))
      throw new Error(`Substitute: a label ≥ classes (${classes}); pass the class count`);
    const layers =
      typeof o.architecture === 'string'
        ? architecture(o.architecture, inputShape, classes)
        : o.architecture;
    const model = new Sequential(
      inputShape,
      layers,
      initParams(layers, deriveStream(o.seed, 0x73756200)),
    );
    const optimizer = adam({ lr: o.lr });
    const sizes: number[] = [];

    for (let round = 0; ; round++) {
      sizes.push(set.shape[0]);
      const data = imageSet(set, labels, inputShape);
      const trainSeed = deriveStream(o.seed, 0x7a000000 + round);
      for (let e = 0; e < o.epochs; e++)
        await trainEpoch(
          model,
          optimizer,
          data,
          { epochs: o.epochs, batchSize: o.batchSize, seed: trainSeed, schedule: 'constant' },
          e,
        );
      if (round === o.rounds || left <= 0) break;
      // Jacobian augmentation, cut to the budget left by a seeded choice of rows.
      const lambda = o.lambda * (Math.floor(round / o.tau) % 2 ? -1 : 1);
      let fresh = augment(model, set, labels, lambda);
      if (fresh.shape[0] > left)
        fresh = takeRows(
          fresh,
          Array.from(
            permutation(deriveStream(o.seed, 0x6a000000 + round), fresh.shape[0]).slice(0, left),
          ).sort((a, b) => a - b),
        );
      const freshLabels = await label(fresh);
      if (!freshLabels.length) break;
      // NOTE: the default class count is a guess from the labels seen first; a later, larger label means it was wrong.
      if (freshLabels.some((l) => l >= classes))
        throw new Error(
          `Substitute: the target answered a class ≥ ${classes}; pass options.classes`,
        );
      set = concatRows(
        set,
        takeRows(
          fresh,
          freshLabels.map((_, i) => i),
        ),
      );
      labels = labels.concat(freshLabels);
    }

    const subPred = model.predict(x);
    const agreement = n ? s.cleanPred.filter((p, i) => p === subPred[i]).length / n : 0;
    const c = await craftOnSource(model, o.attack, x, y, o.confidence);
    const r = await finish(target, x, c.xAdv, y, budgetOf(o.attack), s);
    return {
      ...r,
      source: { success: c.sourceSuccess, queries: c.sourceQueries },
      trainingQueries: spent,
      trainingSizes: sizes,
      agreement,
      substitute: model,
    };
  }
}

/** clip(x + λ·sign(∂F_label/∂x)) per row, F = the substitute's logits (the paper's Jacobian step). */
function augment(
  model: Sequential,
  set: Tensor,
  labels: readonly number[],
  lambda: number,
): Tensor {
  const out = new Float32Array(set.size);
  const d = rowSize(set),
    k = model.numClasses;
  for (let i = 0; i < set.shape[0]; i += JACOBIAN_CHUNK) {
    const rows = Array.from(
      { length: Math.min(JACOBIAN_CHUNK, set.shape[0] - i) },
      (_, j) => i + j,
    );
    const mask = oneHotRows(
      rows.map((r) => labels[r]),
      k,
    );
    const { dx } = model.lossGradients(takeRows(set, rows), (z) => ops.sum(ops.mul(z, mask)), {
      input: true,
    });
    for (let j = i * d; j < (i + rows.length) * d; j++) {
      const v = set.data[j] + lambda * Math.sign(dx!.data[j - i * d]);
      out[j] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  return new Tensor(set.shape, out);
}

function concatRows(a: Tensor, b: Tensor): Tensor {
  const out = new Float32Array(a.size + b.size);
  out.set(a.data);
  out.set(b.data, a.size);
  return new Tensor([a.shape[0] + b.shape[0], ...a.shape.slice(1)], out);
}

/** The labelled set in the trainer's ImageSet form. */
function imageSet(set: Tensor, labels: readonly number[], inputShape: readonly number[]): ImageSet {
  if (inputShape.length !== 3)
    throw new Error(`Substitute: input shape must be [C, H, W], got [${inputShape.join(', ')}]`);
  return {
    images: set.data as Float32Array,
    labels: Uint8Array.from(labels),
    shape: [inputShape[0], inputShape[1], inputShape[2]],
    count: labels.length,
  };
}

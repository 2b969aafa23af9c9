// What an attack may see of a model: white-box (logits and input gradients through the autodiff), a score
// oracle (scores only) or a label oracle (labels only). Every evaluation is counted per input row; oracles
// enforce an optional total query budget.
import { ops, noGrad } from '../autodiff/index.ts';
import { argmaxRows, type Tensor } from '../tensor/index.ts';

/** Raised when a query would exceed an oracle's budget; attacks stop and report what they have. */
export class QueryBudgetExceeded extends Error {
  constructor(readonly budget: number) {
    super(`query budget of ${budget} exhausted`);
  }
}

/** The model side of a white-box target: logits, and the input gradient of a loss of the logits. */
export interface Differentiable {
  readonly inputShape: readonly number[];
  /** True when answers vary from call to call (DefendedModel with a `random` stage); targets inherit it. */
  readonly randomized?: boolean;
  forward(x: Tensor): Tensor;
  lossGradients(
    x: Tensor,
    loss: (logits: Tensor) => Tensor,
    want: { input?: boolean; params?: boolean },
  ): { loss: number; logits: Tensor; dx: Tensor | null };
  /**
   * Optional async twins (Sequential, DefendedModel): the same results, but a backend with an async chain
   * (webgpu) runs the whole network there. Targets use them when present.
   */
  forwardAsync?(x: Tensor): Promise<Tensor>;
  lossGradientsAsync?(
    x: Tensor,
    loss: (logits: Tensor) => Tensor,
    want: { input?: boolean; params?: boolean },
  ): Promise<{ loss: number; logits: Tensor; dx: Tensor | null }>;
}

/** A model as score and label oracles see it: logits only (forwardAsync used when present). */
export type Scorer = {
  inputShape: readonly number[];
  randomized?: boolean;
  forward(x: Tensor): Tensor;
  forwardAsync?(x: Tensor): Promise<Tensor>;
};

/** A target's `randomized` option: what was asked, else what the model says of itself (DefendedModel.randomized). */
const randomizedOf = (model: { randomized?: boolean }, asked: boolean | undefined): boolean =>
  asked ?? model.randomized === true;

/** Logits of x without recording gradients, through forwardAsync where the model has it. */
function logitsOf(model: Scorer, x: Tensor): Promise<Tensor> {
  // NOTE: on CPU backends forwardAsync computes before returning, so this noGrad scope covers it exactly as
  // it covers forward().
  return noGrad(() =>
    model.forwardAsync ? model.forwardAsync(x) : Promise.resolve(model.forward(x)),
  );
}

export type TargetKind = 'white-box' | 'scores' | 'labels';

export interface Target {
  readonly kind: TargetKind;
  readonly inputShape: readonly number[];
  /** Rows evaluated so far (each forward or gradient evaluation of one input counts one). */
  readonly queries: number;
  /**
   * Every query draws fresh randomness, so one answer is not the truth: attacks judge a point by most of 10
   * fresh queries (evaluate.ts `verdict`) and search on while it is not. Absent or false: deterministic, one
   * query decides (no extra queries).
   */
  readonly randomized?: boolean;
  /** Predicted class per row (argmax of the scores, ties to the lowest index); every target answers this. */
  predict(x: Tensor): Promise<number[]>;
  /**
   * Sets n queries of the budget aside (the attack's final check) so the attack's own queries run out
   * first; release(n) hands them back just before they are spent. Budgetless targets may omit both.
   */
  reserve?(n: number): void;
  release?(n: number): void;
}

/** Scores per row: logits (white-box, or an oracle configured to expose them) or probabilities. */
export interface ScoreTarget extends Target {
  scores(x: Tensor): Promise<Tensor>;
}

export interface GradientTarget extends ScoreTarget {
  readonly kind: 'white-box';
  /**
   * The summed `loss(logits)` over the batch, the logits, and its gradient with respect to x (so each row
   * gets its own example's gradient when the loss is a sum of per-row terms).
   */
  gradient(
    x: Tensor,
    loss: (logits: Tensor) => Tensor,
  ): Promise<{ loss: number; logits: Tensor; grad: Tensor }>;
}

export const isGradientTarget = (t: Target): t is GradientTarget => t.kind === 'white-box';
export const isScoreTarget = (t: Target): t is ScoreTarget =>
  t.kind === 'white-box' || t.kind === 'scores';

/** Refuses, before any query, a target without input gradients: `who` is the attack named in the error. */
export function requireGradientTarget(who: string, t: Target): asserts t is GradientTarget {
  if (!isGradientTarget(t))
    throw new Error(`${who}: needs a white-box target (input gradients), got a ${t.kind} target`);
}

/** Row-wise argmax with ties to the lowest index (the prediction rule, tensor/argmax.ts). */
export { argmaxRows };

/**
 * The query counter and optional total budget every target shares (one query per input row). Exported for
 * targets outside this file (the HTTP oracle) so reserve/release behave the same everywhere.
 */
export abstract class Counted {
  protected count = 0;
  private reserved = 0;
  constructor(
    readonly inputShape: readonly number[],
    private readonly budget = Infinity,
  ) {}
  get queries(): number {
    return this.count;
  }
  /** Charges n queries, refusing (before evaluating) the batch that would eat into the budget or the reserve. */
  protected charge(n: number): void {
    this.admit(n);
    this.count += n;
  }
  /** The check of `charge` without the charge: throws when n more queries would eat into the budget or the reserve. */
  protected admit(n: number): void {
    if (this.count + this.reserved + n > this.budget) throw new QueryBudgetExceeded(this.budget);
  }
  reserve(n: number): void {
    this.admit(n);
    this.reserved += n;
  }
  release(n: number): void {
    this.reserved = Math.max(0, this.reserved - n);
  }
}

/**
 * Per-target option: `randomized` overrides what the model says of itself (for models that do not expose
 * it, e.g. a wrapper adding input noise).
 */
export interface TargetOptions {
  randomized?: boolean;
}

/** Full access: logits and input gradients of any loss of the logits. */
export class WhiteBox extends Counted implements GradientTarget {
  readonly kind = 'white-box' as const;
  readonly randomized: boolean;
  constructor(
    private readonly model: Differentiable,
    opts: TargetOptions = {},
  ) {
    super(model.inputShape);
    this.randomized = randomizedOf(model, opts.randomized);
  }
  async scores(x: Tensor): Promise<Tensor> {
    this.charge(x.shape[0]);
    return logitsOf(this.model, x);
  }
  async predict(x: Tensor): Promise<number[]> {
    return argmaxRows(await this.scores(x));
  }
  async gradient(x: Tensor, loss: (logits: Tensor) => Tensor) {
    this.charge(x.shape[0]);
    const m = this.model;
    const r = m.lossGradientsAsync
      ? await m.lossGradientsAsync(x, loss, { input: true })
      : m.lossGradients(x, loss, { input: true });
    return { loss: r.loss, logits: r.logits, grad: r.dx! };
  }
}

/** Scores only: the model's logits, or its softmax probabilities (what a scoring endpoint returns). */
export class ScoreOracle extends Counted implements ScoreTarget {
  readonly kind = 'scores' as const;
  readonly randomized: boolean;
  constructor(
    private readonly model: Scorer,
    private readonly opts: {
      output?: 'logits' | 'probabilities';
      budget?: number;
    } & TargetOptions = {},
  ) {
    super(model.inputShape, opts.budget);
    this.randomized = randomizedOf(model, opts.randomized);
  }
  async scores(x: Tensor): Promise<Tensor> {
    this.charge(x.shape[0]);
    const z = await logitsOf(this.model, x);
    return this.opts.output === 'probabilities' ? noGrad(() => ops.softmax(z)) : z;
  }
  async predict(x: Tensor): Promise<number[]> {
    return argmaxRows(await this.scores(x));
  }
}

/** Labels only (decision-based attacks). */
export class LabelOracle extends Counted implements Target {
  readonly kind = 'labels' as const;
  readonly randomized: boolean;
  constructor(
    private readonly model: Scorer,
    opts: { budget?: number } & TargetOptions = {},
  ) {
    super(model.inputShape, opts.budget);
    this.randomized = randomizedOf(model, opts.randomized);
  }
  async predict(x: Tensor): Promise<number[]> {
    this.charge(x.shape[0]);
    return argmaxRows(await logitsOf(this.model, x));
  }
}

// AutoAttack (Croce & Hein 2020): the standard cascade APGD-CE → APGD-T → FAB-T → Square and the version for
// randomized models, APGD-CE → APGD-DLR over an EOT target, each attack run only on the images still robust.
import { deriveStream } from '../hash/index.ts';
import { Tensor } from '../tensor/index.ts';
import { APGD } from './apgd.ts';
import { APGDT } from './apgd-t.ts';
import { EOT } from './eot.ts';
import { finish, putRows, start, takeRows } from './evaluate.ts';
import { FAB } from './fab.ts';
import { Square } from './square.ts';
import { QueryBudgetExceeded, WhiteBox, type Differentiable, type Target } from './target.ts';
import type { Attack, AttackResult } from './types.ts';

export interface AutoAttackOptions {
  /** L∞ radius (default 0.3, MNIST; 8/255 on CIFAR-10). */
  eps?: number;
  /**
   * 'standard' (default): APGD-CE, APGD-T, FAB-T, Square. 'rand', for randomized models: APGD-CE and APGD-DLR;
   * run it on an EOT target (AutoAttack averages 20 draws; `autoAttack` wraps the model itself).
   */
  version?: 'standard' | 'rand';
  /** Seed each component's seed derives from (default 0). */
  seed?: number;
  /** APGD-CE, APGD-DLR and APGD-T iterations (per target class for APGD-T; default 100). */
  apgdSteps?: number;
  /** APGD-T and FAB-T target classes (default 9). */
  targets?: number;
  /** FAB-T iterations per target class (default 100). */
  fabSteps?: number;
  /** Square's queries per image (default 5000). */
  squareQueries?: number;
  /**
   * Square's p_init (default 0.8, AutoAttack's; square.ts alone defaults to 0.05). NOTE: square.ts rescales
   * its p schedule to the query budget, which AutoAttack's Square (resc_schedule False) does not.
   */
  squarePInit?: number;
}

/** One attack of the cascade as it ran. */
export interface CascadeComponent {
  name: string;
  /** Images it attacked: the clean-correct ones no earlier component had broken. */
  attacked: number;
  /** Of those, the images it broke (its own final check misclassified them). */
  broken: number;
  /** Per image: the target queries it spent there (0 where it did not attack the image). */
  queries: number[];
}

export interface AutoAttackResult extends AttackResult {
  /** Each component in cascade order. */
  components: CascadeComponent[];
  /** Per image: the component that broke it, or null (robust, or misclassified before any attack). */
  brokenBy: (string | null)[];
}

/** A cascade's result (an AttackResult with per-component counts). */
export const isAutoAttackResult = (r: AttackResult): r is AutoAttackResult =>
  Array.isArray((r as Partial<AutoAttackResult>).components);

const TAG = 0x61757461; // 'auta'

/**
 * AutoAttack, Croce & Hein 2020, "Reliable evaluation of adversarial robustness with an ensemble of diverse
 * parameter-free attacks" (arXiv 2003.01690), L∞, inputs NCHW in [0, 1]. Standard version: APGD-CE (100
 * iterations), APGD-T (9 targets × 100), FAB-T (9 targets × 100) and Square (5000 queries, p_init 0.8), in
 * that order; 'rand': APGD-CE then APGD-DLR (100 iterations each), meant for an EOT target. Component i draws
 * from the seed deriveStream(seed, 'auta' + i). Needs a white-box target (Square reads its scores).
 *
 * The cascade: the clean check, then each component runs only on the clean-correct images no earlier one has
 * broken; an image's xAdv is the point of the component that broke it, else the last attempt on it (x when
 * it was misclassified to begin with). The final check decides success, so robust accuracy is
 * `robustAccuracy(result)`; `components` say how many images each attacked and broke, and `queries` per
 * image sum the components' with the cascade's own clean and final checks.
 *
 * NOTE: against a randomized target a component's verdict and the final check are separate draws; they
 * agree on deterministic models.
 *
 * @example
 *   const r = await new AutoAttack({ eps: 8 / 255, seed: 1 }).run(new WhiteBox(model), x, y);
 *   console.log(robustAccuracy(r), r.components.map((c) => `${c.name} ${c.broken}`));
 */
export class AutoAttack implements Attack {
  readonly name: string;
  readonly opts: Required<AutoAttackOptions>;
  /** The components, in cascade order. */
  readonly components: readonly Attack[];

  constructor(opts: AutoAttackOptions = {}) {
    this.opts = {
      eps: opts.eps ?? 0.3,
      version: opts.version ?? 'standard',
      seed: opts.seed ?? 0,
      apgdSteps: opts.apgdSteps ?? 100,
      targets: opts.targets ?? 9,
      fabSteps: opts.fabSteps ?? 100,
      squareQueries: opts.squareQueries ?? 5000,
      squarePInit: opts.squarePInit ?? 0.8,
    };
    const o = this.opts;
    if (o.version !== 'standard' && o.version !== 'rand')
      throw new Error(`AutoAttack: unknown version '${o.version}' (standard or rand)`);
    const seed = (i: number) => deriveStream(o.seed, TAG + i);
    this.components =
      o.version === 'standard'
        ? [
            new APGD({ eps: o.eps, loss: 'ce', steps: o.apgdSteps, seed: seed(0) }),
            new APGDT({ eps: o.eps, steps: o.apgdSteps, targets: o.targets, seed: seed(1) }),
            new FAB({ eps: o.eps, steps: o.fabSteps, targets: o.targets, seed: seed(2) }),
            new Square({
              eps: o.eps,
              maxQueries: o.squareQueries,
              pInit: o.squarePInit,
              seed: seed(3),
            }),
          ]
        : [
            new APGD({ eps: o.eps, loss: 'ce', steps: o.apgdSteps, seed: seed(0) }),
            new APGD({ eps: o.eps, loss: 'dlr', steps: o.apgdSteps, seed: seed(1) }),
          ];
    this.name = o.version === 'standard' ? 'AutoAttack' : 'AutoAttack-rand';
  }

  async run(target: Target, x: Tensor, y: Tensor): Promise<AutoAttackResult> {
    const s = await start(target, x, y);
    const n = x.shape[0];
    const out = Float32Array.from(x.data);
    const queries = [...s.queries];
    const brokenBy: (string | null)[] = s.labels.map(() => null);
    const components: CascadeComponent[] = [];
    let stopped = false;
    for (const attack of this.components) {
      const rows = s.labels
        .map((_, i) => i)
        .filter((i) => s.cleanCorrect[i] && brokenBy[i] === null);
      const c: CascadeComponent = {
        name: attack.name,
        attacked: stopped ? 0 : rows.length,
        broken: 0,
        queries: new Array(n).fill(0),
      };
      components.push(c);
      if (stopped || !rows.length) continue;
      let r: AttackResult;
      try {
        r = await attack.run(target, takeRows(x, rows), takeRows(y, rows));
      } catch (e) {
        // A budgeted oracle ran out before this component could start: the later ones cannot run either.
        if (!(e instanceof QueryBudgetExceeded)) throw e;
        stopped = true;
        c.attacked = 0;
        continue;
      }
      putRows(out, r.xAdv, rows);
      rows.forEach((row, i) => {
        c.queries[row] = r.queries[i];
        queries[row] += r.queries[i];
        if (!r.success[i]) return;
        brokenBy[row] = attack.name;
        c.broken++;
      });
    }
    const result = await finish(
      target,
      x,
      new Tensor(x.shape, out),
      y,
      { norm: 'linf', eps: this.opts.eps },
      { cleanCorrect: s.cleanCorrect, queries },
    );
    return { ...result, components, brokenBy };
  }
}

export interface AutoAttackRunOptions extends AutoAttackOptions {
  /** EOT draws of the 'rand' version (default 20, AutoAttack's). */
  eotDraws?: number;
}

/**
 * AutoAttack on a model in one call: a WhiteBox target (the 'rand' version: EOT over `eotDraws` draws), the
 * version defaulting to 'rand' for a model marked `randomized` (a DefendedModel with GI random) and
 * 'standard' otherwise. Returns per image whether it is still classified correctly, the robust accuracy
 * (the share of all images), each component's counts, and the full result.
 *
 * @example
 *   const { robustAccuracy, components } = await autoAttack(model, x, y, { eps: 0.3, seed: 1 });
 */
export async function autoAttack(
  model: Differentiable & { randomized?: boolean },
  x: Tensor,
  y: Tensor,
  opts: AutoAttackRunOptions = {},
): Promise<{
  robust: boolean[];
  robustAccuracy: number;
  components: { name: string; attacked: number; broken: number }[];
  result: AutoAttackResult;
}> {
  const version = opts.version ?? (model.randomized ? 'rand' : 'standard');
  const target =
    version === 'rand'
      ? new EOT(new WhiteBox(model), { n: opts.eotDraws ?? 20 })
      : new WhiteBox(model);
  const result = await new AutoAttack({ ...opts, version }).run(target, x, y);
  const robust = result.success.map((s) => !s);
  return {
    robust,
    robustAccuracy: robust.length ? robust.filter(Boolean).length / robust.length : 0,
    components: result.components.map(({ name, attacked, broken }) => ({ name, attacked, broken })),
    result,
  };
}

// FAB-T (Croce & Hein 2020): the targeted Fast Adaptive Boundary attack, L∞. A minimum-norm search that
// projects onto the linearized boundary between the label and a target class, biased back toward the input.
import { ops } from '../autodiff/index.ts';
import { deriveStream, uniform } from '../hash/index.ts';
import { Tensor } from '../tensor/index.ts';
import { queryTargetClasses } from './apgd-t.ts';
import { finish, putRows, rowSize, start, takeRows } from './evaluate.ts';
import {
  argmaxRows,
  QueryBudgetExceeded,
  requireGradientTarget,
  type GradientTarget,
  type Target,
} from './target.ts';
import { intAtLeast, type Attack, type AttackResult } from './types.ts';

export interface FabOptions {
  /**
   * L∞ budget (default 0.3): an example counts as broken only by a point within it, and xAdv is projected onto
   * its ball. Infinity → minimum-norm: every adversarial point found counts.
   */
  eps?: number;
  /** Target classes: the most likely wrong ones by clean logits (default 9; fewer when the model has fewer). */
  targets?: number;
  /** Iterations per target class and restart (default 100). */
  steps?: number;
  /** Runs per target class; every one after the first starts at a random point (default 1). */
  restarts?: number;
  /** Largest weight α of the step from the input (default 0.1). */
  alphaMax?: number;
  /** Extrapolation η of each projection (default 1.05). */
  eta?: number;
  /** Pull-back β toward the input after an adversarial iterate (default 0.9). */
  beta?: number;
  /** Seed of the random starts of restarts after the first (default 0; the first run draws nothing). */
  seed?: number;
}

const TAG = 0x66616274; // 'fabt'

/**
 * The smallest-L∞ step d from t onto the hyperplane w·(t + d) = b with t + d kept in [0, 1] (float64).
 * Moving coordinate i toward sign(w_i)·sign(b − w·t) changes w·(t + d) at rate |w_i| until it hits the box
 * (room `cap_i`), so the reach at radius λ is g(λ) = Σ |w_i|·min(λ, cap_i), piecewise linear and increasing;
 * λ* solves g(λ*) = |b − w·t| between two consecutive caps. When even the box corner falls short, d is the
 * corner (as in the reference projection_linf).
 */
export function projectLinf(t: ArrayLike<number>, w: ArrayLike<number>, b: number): Float64Array {
  const n = t.length;
  let wt = 0;
  for (let i = 0; i < n; i++) wt += w[i] * t[i];
  const c = b - wt,
    d = new Float64Array(n);
  if (c === 0) return d;
  const dir = new Int8Array(n),
    cap = new Float64Array(n),
    aw = new Float64Array(n);
  let reach = 0,
    live = 0;
  for (let i = 0; i < n; i++) {
    if (w[i] === 0) continue;
    dir[i] = Math.sign(w[i]) * Math.sign(c);
    cap[i] = dir[i] > 0 ? 1 - t[i] : t[i];
    aw[i] = Math.abs(w[i]);
    reach += aw[i] * cap[i];
    live++;
  }
  if (live === 0) return d;
  const need = Math.abs(c);
  if (reach <= need) {
    for (let i = 0; i < n; i++) d[i] = dir[i] * cap[i];
    return d;
  }
  const g = (lambda: number) => {
    let s = 0;
    for (let i = 0; i < n; i++) if (dir[i]) s += aw[i] * Math.min(lambda, cap[i]);
    return s;
  };
  const sorted = new Float64Array(live);
  for (let i = 0, j = 0; i < n; i++) if (dir[i]) sorted[j++] = cap[i];
  sorted.sort();
  // The first cap whose reach covers the need (it exists: the last one reaches `reach` > need).
  let lo = 0,
    hi = live - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (g(sorted[mid]) >= need) hi = mid;
    else lo = mid + 1;
  }
  // Between the previous cap and this one, g(λ) = A + λ·S: coordinates capped below contribute their cap.
  const below = lo > 0 ? sorted[lo - 1] : 0;
  let a = 0,
    s = 0;
  for (let i = 0; i < n; i++) {
    if (!dir[i]) continue;
    if (cap[i] <= below) a += aw[i] * cap[i];
    else s += aw[i];
  }
  const lambda = Math.max(0, (need - a) / s);
  for (let i = 0; i < n; i++) if (dir[i]) d[i] = dir[i] * Math.min(lambda, cap[i]);
  return d;
}

const linfNorm = (v: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]));
  return m;
};

/**
 * FAB-T, L∞: Croce & Hein 2020, "Minimally distorted adversarial examples with a fast adaptive boundary
 * attack" (arXiv 1907.02044), targeted as AutoAttack's fab-t runs it (n_target_classes 9, n_restarts 1,
 * n_iter 100, α_max 0.1, η 1.05, β 0.9). Inputs NCHW in [0, 1]; needs input gradients.
 *
 * For the j-th most likely wrong class t of each example (by its clean logits), from x⁰ = x: at the iterate
 * xᵏ, f = z_t − z_y and w = ∇f give the linearized boundary w·p = w·xᵏ − f; d₁ and d₂ are the smallest-L∞
 * steps onto it from xᵏ and from x (inside [0, 1], `projectLinf`); with α = min(‖d₁‖∞/(‖d₁‖∞ + ‖d₂‖∞), α_max),
 * xᵏ⁺¹ = clip((xᵏ + η·d₁)(1 − α) + (x + η·d₂)·α, 0, 1). An iterate the model misclassifies (any wrong class)
 * is kept when it is the example's closest to x so far, and the search goes on from x + β(xᵏ⁺¹ − x). Every
 * run takes all its iterations (it minimizes the norm); runs for the next target (and restarts, from
 * x + ½·min(ε, best so far, 1)·u/‖u‖∞, u uniform in [−1, 1]) cover only the examples without a point within ε yet.
 *
 * The result is each example's closest adversarial point, projected onto the ε-ball and [0, 1] by `finish`:
 * success only within ε, and `norms` are the found distances where they fit.
 *
 * Queries per example: the clean check, one clean-logits query, per run one gradient per iteration plus one
 * more after each adversarial iterate (its pulled-back point's gradient) and a check of the last iterate,
 * and the final check.
 *
 * @example
 *   const r = await new FAB({ eps: 0.3 }).run(new WhiteBox(model), x, y);
 *   console.log(successRate(r), median(r.norms.linf.filter((_, i) => r.success[i])));
 */
export class FAB implements Attack {
  readonly name = 'FAB-T-Linf';
  readonly opts: Required<FabOptions>;

  constructor(opts: FabOptions = {}) {
    this.opts = {
      eps: opts.eps ?? 0.3,
      targets: opts.targets ?? 9,
      steps: opts.steps ?? 100,
      restarts: opts.restarts ?? 1,
      alphaMax: opts.alphaMax ?? 0.1,
      eta: opts.eta ?? 1.05,
      beta: opts.beta ?? 0.9,
      seed: opts.seed ?? 0,
    };
    const o = this.opts;
    if (
      !(o.eps >= 0) ||
      !intAtLeast(o.targets, 1) ||
      !intAtLeast(o.steps, 1) ||
      !intAtLeast(o.restarts, 1) ||
      !(o.alphaMax >= 0 && o.alphaMax <= 1) ||
      !(o.eta >= 1) ||
      !(o.beta > 0 && o.beta < 1)
    ) {
      throw new Error(
        `FAB: invalid options ${JSON.stringify(opts)} (eps ≥ 0, integer targets, steps and restarts ≥ 1, alphaMax in [0, 1], eta ≥ 1, beta in (0, 1))`,
      );
    }
  }

  async run(target: Target, x: Tensor, y: Tensor): Promise<AttackResult> {
    requireGradientTarget(this.name, target);
    const o = this.opts;
    const s = await start(target, x, y);
    const n = x.shape[0];
    const out = Float32Array.from(x.data); // each example's closest adversarial point, else x
    const bestNorm = new Float64Array(n).fill(Infinity);
    // Examples still to attack: clean-correct, with no adversarial point within ε found yet.
    const todo = () =>
      s.labels
        .map((_, i) => i)
        .filter((i) => s.cleanCorrect[i] && !(bestNorm[i] < Infinity && bestNorm[i] <= o.eps));
    try {
      const { targets, runs } = await queryTargetClasses(target, x, todo(), s, o.targets);
      for (let j = 0; j < runs; j++) {
        for (let restart = 0; restart < o.restarts; restart++) {
          const rows = todo();
          if (!rows.length) break;
          const stream = deriveStream(deriveStream(o.seed, TAG), j * o.restarts + restart);
          await this.search(
            target,
            x,
            s,
            rows,
            rows.map((r) => targets[r][j]),
            restart > 0 ? stream : null,
            out,
            bestNorm,
          );
        }
      }
    } catch (e) {
      // Stopped by the oracle's budget: `out` holds each example's closest adversarial point so far.
      if (!(e instanceof QueryBudgetExceeded)) throw e;
    }
    return finish(target, x, new Tensor(x.shape, out), y, { norm: 'linf', eps: o.eps }, s);
  }

  /** One run of `steps` iterations toward `classes` (per row) on `rows`; updates `out` and `bestNorm`. */
  private async search(
    target: GradientTarget,
    x: Tensor,
    s: { labels: number[]; queries: number[] },
    rows: number[],
    classes: number[],
    stream: number | null,
    out: Float32Array,
    bestNorm: Float64Array,
  ): Promise<void> {
    const o = this.opts;
    const d = rowSize(x),
      m = rows.length;
    const x0 = takeRows(x, rows).data;
    const cur = Float32Array.from(x0);
    if (stream !== null) {
      rows.forEach((r, i) => {
        // Counters depend on the example's index in the batch, not its position in the active set.
        const u = Float64Array.from({ length: d }, (_, e) => 2 * uniform(stream, r * d + e) - 1);
        const scale = (0.5 * Math.min(o.eps, bestNorm[r], 1)) / (linfNorm(u) || 1);
        for (let e = 0; e < d; e++)
          cur[i * d + e] = Math.min(1, Math.max(0, x0[i * d + e] + scale * u[e]));
      });
    }
    const labels = rows.map((r) => s.labels[r]);
    const shape = [m, ...x.shape.slice(1)];
    // Σ_rows z_t − z_y: its gradient is each row's w, its logits tell which iterates are adversarial.
    const gradientAt = (xs: Float32Array, idx: readonly number[]) =>
      target.gradient(new Tensor([idx.length, ...x.shape.slice(1)], xs), (z) => {
        const k = z.shape[1];
        const mask = new Float32Array(idx.length * k);
        idx.forEach((i, p) => {
          mask[p * k + classes[i]] = 1;
          mask[p * k + labels[i]] = -1;
        });
        return ops.sum(ops.mul(z, new Tensor([idx.length, k], mask)));
      });
    const all = rows.map((_, i) => i);
    // Records the adversarial iterates among `idx` (by their logits) and pulls them back toward x; returns them.
    const record = (logits: Tensor, idx: readonly number[]): number[] => {
      const pred = argmaxRows(logits);
      const hits: number[] = [];
      idx.forEach((i, p) => {
        if (pred[p] === labels[i]) return;
        const row = cur.subarray(i * d, (i + 1) * d),
          base = x0.subarray(i * d, (i + 1) * d);
        let norm = 0;
        for (let e = 0; e < d; e++) norm = Math.max(norm, Math.abs(row[e] - base[e]));
        const r = rows[i];
        if (norm < bestNorm[r]) {
          bestNorm[r] = norm;
          out.set(row, r * d);
        }
        for (let e = 0; e < d; e++) row[e] = base[e] + o.beta * (row[e] - base[e]);
        hits.push(i);
      });
      return hits;
    };
    for (let k = 0; k < o.steps; k++) {
      const { logits, grad } = await gradientAt(cur, all);
      rows.forEach((r) => s.queries[r]++);
      const k1 = logits.shape[1];
      const zt = new Float64Array(m),
        zy = new Float64Array(m);
      all.forEach(
        (i) =>
          ([zt[i], zy[i]] = [logits.data[i * k1 + classes[i]], logits.data[i * k1 + labels[i]]]),
      );
      const g = Float32Array.from(grad.data);
      if (k > 0) {
        // The previous step's iterate: where adversarial, record it, pull it back and linearize there instead.
        const hits = record(logits, all);
        if (hits.length) {
          const again = await gradientAt(
            takeRows(new Tensor(shape, cur), hits).data as Float32Array,
            hits,
          );
          hits.forEach((i) => s.queries[rows[i]]++);
          putRows(g, again.grad, hits);
          hits.forEach(
            (i, p) =>
              ([zt[i], zy[i]] = [
                again.logits.data[p * k1 + classes[i]],
                again.logits.data[p * k1 + labels[i]],
              ]),
          );
        }
      }
      for (let i = 0; i < m; i++) {
        const xi = cur.subarray(i * d, (i + 1) * d),
          x0i = x0.subarray(i * d, (i + 1) * d),
          w = g.subarray(i * d, (i + 1) * d);
        // Linearized boundary: f + w·(p − xᵏ) = 0, i.e. w·p = w·xᵏ − f.
        let wx = 0;
        for (let e = 0; e < d; e++) wx += w[e] * xi[e];
        const b = wx - (zt[i] - zy[i]);
        const d1 = projectLinf(xi, w, b),
          d2 = projectLinf(x0i, w, b);
        const a1 = Math.max(linfNorm(d1), 1e-8),
          a2 = Math.max(linfNorm(d2), 1e-8);
        const alpha = Math.min(Math.max(a1 / (a1 + a2), 0), o.alphaMax);
        for (let e = 0; e < d; e++) {
          const v = (xi[e] + o.eta * d1[e]) * (1 - alpha) + (x0i[e] + o.eta * d2[e]) * alpha;
          xi[e] = v < 0 ? 0 : v > 1 ? 1 : v;
        }
      }
    }
    // The last iterate is checked once more (a forward query each).
    const last = await target.scores(new Tensor(shape, cur));
    rows.forEach((r) => s.queries[r]++);
    record(last, all);
  }
}

// Certified training's objective (IBP, Gowal et al. 2018): κ·CE(clean logits) + (1 − κ)·CE(worst-case logits
// over the ε-box, by interval bound propagation, margins through the last layer), differentiable through every
// layer type (hashed included).
// Float32 and unwidened: it trains; certificates come from src/verify, in float64 and widened for rounding.
import { gradients, ops } from '../autodiff/index.ts';
import { Tensor } from '../tensor/index.ts';
import type { StepGradients } from './adversarial.ts';
import { effectiveWeight, inputInterval, intervalStep } from './interval-step.ts';
import { layerForward, type Params } from './layers.ts';
import { crownIbpMargins } from './crown-ibp.ts';
import { crossEntropyLoss } from './losses.ts';
import type { Sequential } from './sequential.ts';
import { methodSettings } from './method-spec.ts';

/**
 * Certified training: the final radius, κ, the clean loss's final weight (it ramps from 1 with ε), and how the
 * worst case is taken: `margins: 'last-layer'` bounds each margin z_y − z_j through the last dense layer, as
 * the verifier does (Gowal et al.'s elision of the last layer); absent, from the logits' box (lo_y − hi_j),
 * looser: the first recipe, still the default so that a recorded command rebuilds the same model.
 */
export type CertifiedSpec =
  | { kind: 'ibp'; eps: number; kappa: number; margins?: 'last-layer' }
  // CROWN-IBP (Zhang et al., ICLR 2020): the margins' bound mixes β·CROWN-IBP + (1 − β)·IBP, β falling from 1
  // to 0 over the ε ramp (the published schedule), both through the last layer.
  | { kind: 'crown-ibp'; eps: number; kappa: number };

/**
 * Parses `ibp:eps=0.4[,kappa=0.5][,margins=logits|last-layer]` (κ defaults to 0.5, Gowal et al.'s final value;
 * margins to logits, the first recipe; last-layer is the tighter one the verifier uses).
 */
export function parseCertified(text: string): CertifiedSpec {
  const [kind, rest = ''] = text.split(':', 2);
  if (kind !== 'ibp' && kind !== 'crown-ibp')
    throw new Error(`unknown method '${kind}' (expected ibp or crown-ibp)`);
  const { eps, values, words } = methodSettings(
    kind,
    rest,
    ['eps', 'kappa'],
    kind === 'ibp' ? { margins: ['last-layer', 'logits'] } : {},
  );
  const margins = words.margins;
  const kappa = values.kappa ?? 0.5;
  if (!(kappa >= 0 && kappa <= 1))
    throw new Error(`${kind}: kappa must be in [0, 1], got ${kappa}`);
  if (kind === 'crown-ibp') return { kind, eps, kappa };
  return { kind: 'ibp', eps, kappa, ...(margins === 'last-layer' ? { margins } : {}) };
}

export function formatCertified(c: CertifiedSpec): string {
  if (c.kind === 'crown-ibp') return `crown-ibp:eps=${c.eps},kappa=${c.kappa}`;
  return `ibp:eps=${c.eps},kappa=${c.kappa}${c.margins ? `,margins=${c.margins}` : ''}`;
}

/** CROWN-IBP's β at global step t: from 1 down to 0 linearly over the ε ramp, then 0 (Zhang et al.). */
export function betaAt(t: number, rampSteps: number): number {
  if (rampSteps <= 0 || t >= rampSteps) return 0;
  return 1 - (t + 1) / rampSteps;
}

/** κ at global step t: from 1 down to the spec's κ linearly over the ε ramp, then constant (Gowal et al.). */
export function kappaAt(spec: CertifiedSpec, t: number, rampSteps: number): number {
  if (rampSteps <= 0 || t >= rampSteps) return spec.kappa;
  return 1 - ((1 - spec.kappa) * (t + 1)) / rampSteps;
}

/** Elementwise bounds [lo, hi] of the logits over the box [x − ε, x + ε] ∩ [0, 1], as differentiable tensors. */
export function intervalLogits(
  model: Sequential,
  x: Tensor,
  eps: number,
  params: Params = model.params,
  upTo = model.layers.length,
): { lo: Tensor; hi: Tensor } {
  let { lo, hi } = inputInterval(x, eps);
  for (const spec of model.layers.slice(0, upTo)) ({ lo, hi } = intervalStep(spec, lo, hi, params));
  return { lo, hi };
}

/**
 * Lower bounds [N, C] of the margins z_y − z_j (0 at j = y) over the ε-box, through the last layer when it is
 * dense (plain or hashed): (W_y − W_j)·mid + b_y − b_j − |W_y − W_j|·rad over the box of its input; otherwise
 * lo_y − hi_j from the logits' box. Differentiable; `mask` is the labels one-hot [N, C].
 */
export function intervalMargins(
  model: Sequential,
  x: Tensor,
  mask: Tensor,
  eps: number,
  params: Params = model.params,
): Tensor {
  const last = model.layers[model.layers.length - 1];
  const [n, classes] = mask.shape;
  const trueOf = (z: Tensor) => ops.broadcastTo(ops.sum(ops.mul(z, mask), [1], true), [n, classes]);
  if (last.type !== 'dense' && last.type !== 'hashed-dense') {
    const { lo, hi } = intervalLogits(model, x, eps, params);
    return ops.mul(ops.sub(trueOf(lo), hi), ops.sub(1, mask));
  }
  const { lo, hi } = intervalLogits(model, x, eps, params, model.layers.length - 1);
  const mid = ops.mul(ops.add(lo, hi), 0.5),
    rad = ops.mul(ops.sub(hi, lo), 0.5);
  const w = effectiveWeight(last, params);
  const centre = layerForward(last, mid, params);
  // |W_y − W_j|·rad, one matmul per class y over the rows labelled y (the mask's column y selects them).
  let spread: Tensor | null = null;
  const labels = mask.data;
  for (let c = 0; c < classes; c++) {
    const rows = new Float32Array(n * classes);
    let any = false;
    for (let i = 0; i < n; i++)
      if (labels[i * classes + c] === 1) {
        rows.fill(1, i * classes, (i + 1) * classes);
        any = true;
      }
    if (!any) continue;
    const pick = new Float32Array(classes);
    pick[c] = 1;
    const wc = ops.matmul(new Tensor([1, classes], pick), w); // W_c as [1, D]
    const diff = ops.abs(ops.sub(ops.broadcastTo(wc, w.shape.slice()), w));
    const part = ops.mul(ops.matmul(rad, diff, false, true), new Tensor([n, classes], rows));
    spread = spread ? ops.add(spread, part) : part;
  }
  return ops.sub(ops.sub(trueOf(centre), centre), spread!);
}

/**
 * One certified training step's loss and parameter gradients: κ·CE(f(x), y) + (1 − κ)·CE(z̄, y), where z̄ is
 * the worst case over the ε-box: −(margin lower bounds) with `margins` 'last-layer', else the true class's
 * lower bound and every other class's upper bound. `correct` counts clean predictions.
 */
export function certifiedLossGradients(
  model: Sequential,
  x: Tensor,
  y: Tensor,
  eps: number,
  kappa: number,
  margins: 'last-layer' | 'logits' = 'logits',
  /** CROWN-IBP's β: the margins' bound is β·CROWN-IBP + (1 − β)·IBP (through the last layer). */
  beta?: number,
): StepGradients {
  const names = model.parameterNames();
  const params = names.map((n) => model.params.get(n)!);
  const n = y.size;
  let clean: Tensor | null = null;
  const { value, grads } = gradients(() => {
    let z = x;
    for (const spec of model.layers) z = layerForward(spec, z, model.params);
    clean = z;
    const classes = z.shape[1];
    const onehot = new Float32Array(n * classes);
    for (let i = 0; i < n; i++) onehot[i * classes + y.data[i]] = 1;
    const mask = new Tensor([n, classes], onehot);
    let worst: Tensor;
    if (beta !== undefined && beta > 0) {
      const { crown, ibp } = crownIbpMargins(model, x, mask, eps);
      worst = ops.neg(ops.add(ops.mul(crown, beta), ops.mul(ibp, 1 - beta)));
    } else if (margins === 'last-layer' || beta !== undefined)
      worst = ops.neg(intervalMargins(model, x, mask, eps));
    else {
      const { lo, hi } = intervalLogits(model, x, eps);
      worst = ops.add(ops.mul(hi, ops.sub(1, mask)), ops.mul(lo, mask));
    }
    return ops.add(
      ops.mul(crossEntropyLoss(z, y), kappa),
      ops.mul(crossEntropyLoss(worst, y), 1 - kappa),
    );
  }, params);
  const pred = ops.argmax(clean!, 1);
  let correct = 0;
  for (let i = 0; i < n; i++) if (pred.data[i] === y.data[i]) correct++;
  return {
    loss: value.data[0],
    correct,
    grads: new Map(names.map((name, i) => [name, grads[i]])),
  };
}

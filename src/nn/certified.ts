// Certified training's objective (IBP, Gowal et al. 2018): κ·CE(clean logits) + (1 − κ)·CE(worst-case logits
// over the ε-box, by interval bound propagation), differentiable through every layer type (hashed included).
// Float32 and unwidened: it trains; certificates come from src/verify, in float64 and widened for rounding.
import { gradients, ops } from '../autodiff/index.ts';
import { Tensor } from '../tensor/index.ts';
import type { StepGradients } from './adversarial.ts';
import { layerForward, virtualWeight, type Params } from './layers.ts';
import { crossEntropyLoss } from './losses.ts';
import type { Sequential } from './sequential.ts';

/** Certified training: the final radius, and κ, the clean loss's final weight (it ramps from 1 with ε). */
export type CertifiedSpec = { kind: 'ibp'; eps: number; kappa: number };

/** Parses `ibp:eps=0.4` or `ibp:eps=0.4,kappa=0.5` (κ defaults to 0.5, Gowal et al.'s final value). */
export function parseCertified(text: string): CertifiedSpec {
  const [kind, rest = ''] = text.split(':', 2);
  if (kind !== 'ibp')
    throw new Error(`unknown method '${kind}' (expected ibp; crown-ibp is not built yet)`);
  const values: Record<string, number> = {};
  for (const part of rest.split(',').filter((p) => p !== '')) {
    const [key, value] = part.split('=', 2);
    if (key !== 'eps' && key !== 'kappa')
      throw new Error(`ibp: unknown setting '${key}' (known: eps, kappa)`);
    const frac =
      value === undefined ? null : /^\s*([0-9.eE+-]+)\s*\/\s*([0-9.eE+-]+)\s*$/.exec(value);
    const v = frac ? Number(frac[1]) / Number(frac[2]) : Number(value);
    if (value === undefined || value.trim() === '' || !Number.isFinite(v))
      throw new Error(`ibp: ${key} must be a number, got '${value ?? ''}'`);
    values[key] = v;
  }
  const eps = values.eps;
  if (eps === undefined) throw new Error('ibp: eps is required, e.g. ibp:eps=0.4');
  if (!(eps > 0 && eps <= 1)) throw new Error(`ibp: eps must be in (0, 1], got ${eps}`);
  const kappa = values.kappa ?? 0.5;
  if (!(kappa >= 0 && kappa <= 1)) throw new Error(`ibp: kappa must be in [0, 1], got ${kappa}`);
  return { kind: 'ibp', eps, kappa };
}

export function formatCertified(c: CertifiedSpec): string {
  return `ibp:eps=${c.eps},kappa=${c.kappa}`;
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
): { lo: Tensor; hi: Tensor } {
  const src = x.data as Float32Array;
  let lo = new Tensor(
    x.shape,
    src.map((v) => Math.max(0, v - eps)),
  );
  let hi = new Tensor(
    x.shape,
    src.map((v) => Math.min(1, v + eps)),
  );
  for (const spec of model.layers) {
    switch (spec.type) {
      case 'dense':
      case 'hashed-dense':
      case 'conv2d':
      case 'hashed-conv2d': {
        // Centre through the layer, half-width through |W| without the bias.
        const mid = ops.mul(ops.add(lo, hi), 0.5),
          rad = ops.mul(ops.sub(hi, lo), 0.5);
        const w0 = params.get(spec.weight)!;
        const w =
          spec.type === 'hashed-dense' || spec.type === 'hashed-conv2d'
            ? virtualWeight(spec, w0)
            : w0;
        const c = layerForward(spec, mid, params);
        const r =
          spec.type === 'dense' || spec.type === 'hashed-dense'
            ? ops.matmul(rad, ops.abs(w), false, true)
            : ops.conv2d(rad, ops.abs(w), spec);
        lo = ops.sub(c, r);
        hi = ops.add(c, r);
        break;
      }
      default:
        // relu, max and average pooling, flatten: monotone, so each bound goes through alone.
        lo = layerForward(spec, lo, params);
        hi = layerForward(spec, hi, params);
    }
  }
  return { lo, hi };
}

/**
 * One certified training step's loss and parameter gradients: κ·CE(f(x), y) + (1 − κ)·CE(z̄, y), where z̄ takes
 * the true class's lower bound and every other class's upper bound. `correct` counts clean predictions.
 */
export function certifiedLossGradients(
  model: Sequential,
  x: Tensor,
  y: Tensor,
  eps: number,
  kappa: number,
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
    const { lo, hi } = intervalLogits(model, x, eps);
    const worst = ops.add(ops.mul(hi, ops.sub(1, mask)), ops.mul(lo, mask));
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

// Adversarial training's inner maximization and outer loss (docs/design.md §8): Madry PGD-AT, fast FGSM with
// random start (Wong et al. 2020) and TRADES (Zhang et al. 2019), L∞, for any layer type (hashed included).
// Runtime-free and sharding-invariant: every random start is keyed by (seed, epoch, step, row of the batch).
import { ops } from '../autodiff/index.ts';
import { deriveStream, normal, uniform } from '../hash/index.ts';
import { Tensor } from '../tensor/index.ts';
import { crossEntropyLoss } from './losses.ts';
import type { Sequential } from './sequential.ts';
import { methodSettings } from './method-spec.ts';

/** How training examples are made adversarial; `eps` is the final radius (an ε ramp scales it per step). */
export type AdversarialSpec =
  | { kind: 'pgd'; eps: number; steps: number; step: number }
  | { kind: 'fgsm-rs'; eps: number; alpha: number }
  | { kind: 'trades'; eps: number; steps: number; step: number; beta: number };

/** Where a batch sits in the run: its random starts derive from these, never from a shard or a worker. */
export interface BatchKey {
  seed: number;
  epoch: number;
  step: number;
  /** Index within the batch of this tensor's first row (a worker's shard starts mid-batch). */
  rowOffset: number;
}

/**
 * What an adversarial training step works on: the model, a batch x with labels y, the adversary, its radius at
 * this step (after any ramp) and the batch's key. The worker pool's step takes a key without rowOffset (each
 * shard sets its own).
 */
export type AdversarialStep<Key = BatchKey> = [
  model: Sequential,
  x: Tensor,
  y: Tensor,
  spec: AdversarialSpec,
  eps: number,
  key: Key,
];

/** One training step's mean loss over the batch, its correct predictions and its parameter gradients. */
export interface StepGradients {
  loss: number;
  correct: number;
  grads: Map<string, Tensor>;
}

const KNOWN: Record<AdversarialSpec['kind'], readonly string[]> = {
  pgd: ['eps', 'steps', 'step'],
  'fgsm-rs': ['eps', 'alpha'],
  trades: ['eps', 'steps', 'step', 'beta'],
};

/**
 * Parses `pgd:eps=0.3,steps=40,step=0.01`, `fgsm-rs:eps=8/255,alpha=10/255` or `trades:eps=0.3,steps=40,beta=6`.
 * Defaults: PGD and TRADES step 2.5·ε/steps (Madry et al.'s rule, so the steps can cross the ball and back),
 * FGSM-RS α = 1.25·ε (Wong et al.), TRADES β = 6 (Zhang et al.'s MNIST and CIFAR-10 setting).
 */
export function parseAdversarial(text: string): AdversarialSpec {
  const [kind, rest = ''] = text.split(':', 2);
  if (!(kind in KNOWN))
    throw new Error(`unknown method '${kind}' (expected pgd, fgsm-rs or trades)`);
  const k = kind as AdversarialSpec['kind'];
  const { eps, values } = methodSettings(k, rest, KNOWN[k]);
  const steps = values.steps ?? (k === 'fgsm-rs' ? 1 : 10);
  if (!Number.isInteger(steps) || steps < 1 || steps > 1000)
    throw new Error(`${k}: steps must be an integer in [1, 1000], got ${steps}`);
  const positive = (name: string, v: number, max: number) => {
    if (!(v > 0 && v <= max)) throw new Error(`${k}: ${name} must be in (0, ${max}], got ${v}`);
    return v;
  };
  if (k === 'fgsm-rs')
    return { kind: k, eps, alpha: positive('alpha', values.alpha ?? 1.25 * eps, 2) };
  const step = positive('step', values.step ?? (2.5 * eps) / steps, 1);
  if (k === 'pgd') return { kind: k, eps, steps, step };
  return { kind: k, eps, steps, step, beta: positive('beta', values.beta ?? 6, 1000) };
}

/** The spec as it was parsed, for model.json and for resume comparisons. */
export function formatAdversarial(a: AdversarialSpec): string {
  if (a.kind === 'fgsm-rs') return `fgsm-rs:eps=${a.eps},alpha=${a.alpha}`;
  if (a.kind === 'pgd') return `pgd:eps=${a.eps},steps=${a.steps},step=${a.step}`;
  return `trades:eps=${a.eps},steps=${a.steps},step=${a.step},beta=${a.beta}`;
}

/** ε at global step t of a run whose ramp lasts `rampSteps` steps: linear from 0, then constant. */
export function rampedEps(eps: number, t: number, rampSteps: number): number {
  return rampSteps > 0 && t < rampSteps ? (eps * (t + 1)) / rampSteps : eps;
}

/** Per-row random stream of a batch row: a function of the run, not of the shard that computes it. */
function rowStream(key: BatchKey, row: number): number {
  return deriveStream(
    deriveStream(deriveStream(key.seed, 0xad700000 + key.epoch), key.step),
    key.rowOffset + row,
  );
}

/** x + noise drawn per row (uniform in [−ε, ε], or ε·N(0,1) for TRADES's 0.001 start), clamped to [0, 1]. */
function randomStart(
  x: Tensor,
  key: BatchKey,
  eps: number,
  dist: 'uniform' | 'normal',
): Float32Array {
  const n = x.shape[0],
    d = x.size / n,
    src = x.data as Float32Array;
  const out = new Float32Array(x.size);
  for (let i = 0; i < n; i++) {
    const s = rowStream(key, i);
    for (let j = 0; j < d; j++) {
      const r = dist === 'uniform' ? (2 * uniform(s, j) - 1) * eps : eps * normal(s, j);
      out[i * d + j] = Math.min(1, Math.max(0, src[i * d + j] + r));
    }
  }
  return out;
}

/** One L∞ ascent step in place: cur ← clip(cur + α·sign(g), x ± ε) ∩ [0, 1]. */
function ascend(
  cur: Float32Array,
  g: Float32Array,
  x: Float32Array,
  alpha: number,
  eps: number,
): void {
  for (let j = 0; j < cur.length; j++) {
    const v = cur[j] + alpha * Math.sign(g[j]);
    cur[j] = Math.min(1, Math.max(0, Math.min(x[j] + eps, Math.max(x[j] - eps, v))));
  }
}

/** mean_i KL(softmax(p_i) ‖ softmax(q_i)) of two logit tensors of the same shape. */
function meanKl(p: Tensor, q: Tensor): Tensor {
  const lp = ops.logSoftmax(p);
  return ops.mean(ops.sum(ops.mul(ops.exp(lp), ops.sub(lp, ops.logSoftmax(q))), [1]));
}

/**
 * The adversarial examples of a batch at radius `eps` (PGD: uniform start, `steps` sign steps on the summed
 * cross-entropy, last iterate; FGSM-RS: uniform start and one step of α; TRADES: a 0.001·N(0,1) start and
 * steps on KL(f(x) ‖ f(x')) against the clean prediction). Parameters are constants here.
 */
export function adversarialExamples(...[model, x, y, spec, eps, key]: AdversarialStep): Tensor {
  let cur: Float32Array, loss: (z: Tensor) => Tensor, steps: number, stepSize: number;
  if (spec.kind === 'trades') {
    const clean = model.forward(x);
    cur = randomStart(x, key, 0.001, 'normal');
    loss = (z) => ops.mul(meanKl(clean, z), x.shape[0]);
    steps = spec.steps;
    stepSize = spec.step;
  } else {
    cur = randomStart(x, key, eps, 'uniform');
    loss = (z) => ops.sum(ops.crossEntropy(z, y));
    steps = spec.kind === 'pgd' ? spec.steps : 1;
    stepSize = spec.kind === 'pgd' ? spec.step : spec.alpha;
  }
  // Steps scale with the ramped radius so a ramp keeps the schedule's shape (same number of steps to cross).
  const alpha = stepSize * (eps / spec.eps);
  const src = x.data as Float32Array;
  for (let s = 0; s < steps; s++) {
    const r = model.lossGradients(new Tensor(x.shape, cur), loss, { input: true });
    ascend(cur, r.dx!.data as Float32Array, src, alpha, eps);
  }
  return new Tensor(x.shape, cur);
}

/** Rows [0, n) or [n, 2n) of a [2n, C] tensor, as a differentiable product with a 0/1 selection matrix. */
function half(z: Tensor, second: boolean): Tensor {
  const n = z.shape[0] / 2;
  const sel = new Float32Array(n * 2 * n);
  for (let i = 0; i < n; i++) sel[i * 2 * n + i + (second ? n : 0)] = 1;
  return ops.matmul(new Tensor([n, 2 * n], sel), z);
}

/**
 * One adversarial training step's loss, accuracy and parameter gradients on a batch. PGD and FGSM-RS: mean
 * cross-entropy at the adversarial examples. TRADES: CE(f(x), y) + β·mean KL(f(x) ‖ f(x')), both halves
 * differentiated in one pass over [x; x']. `correct` counts adversarial examples still classified right.
 */
export function adversarialLossGradients(...step: AdversarialStep): StepGradients {
  const [model, x, y, spec] = step;
  const xAdv = adversarialExamples(...step);
  if (spec.kind !== 'trades') {
    const r = model.lossGradients(xAdv, (z) => crossEntropyLoss(z, y), { params: true });
    return { loss: r.loss, correct: countCorrect(r.logits, y), grads: r.grads! };
  }
  const n = x.shape[0];
  const both = new Float32Array(2 * x.size);
  both.set(x.data as Float32Array);
  both.set(xAdv.data as Float32Array, x.size);
  const r = model.lossGradients(
    new Tensor([2 * n, ...x.shape.slice(1)], both),
    (z) => {
      const clean = half(z, false),
        adv = half(z, true);
      return ops.add(crossEntropyLoss(clean, y), ops.mul(meanKl(clean, adv), spec.beta));
    },
    { params: true },
  );
  const advLogits = new Tensor(
    [n, r.logits.shape[1]],
    (r.logits.data as Float32Array).slice(n * r.logits.shape[1]),
  );
  return { loss: r.loss, correct: countCorrect(advLogits, y), grads: r.grads! };
}

function countCorrect(logits: Tensor, y: Tensor): number {
  const pred = ops.argmax(logits, 1);
  let c = 0;
  for (let i = 0; i < y.size; i++) if (pred.data[i] === y.data[i]) c++;
  return c;
}

/**
 * Accuracy under PGD (uniform start, `steps` steps of 2.5·ε/steps, last iterate, cross-entropy) on a fixed
 * batch, evaluated in chunks of `chunk` rows: the check that sees catastrophic overfitting, where FGSM
 * accuracy stays high while PGD accuracy falls to zero (Wong et al. 2020). Seeded; the same every epoch.
 */
export function pgdAccuracy(
  model: Sequential,
  x: Tensor,
  y: Tensor,
  eps: number,
  steps = 20,
  seed = 0,
  chunk = 250,
): number {
  const n = x.shape[0],
    d = x.size / n,
    spec: AdversarialSpec = { kind: 'pgd', eps, steps, step: (2.5 * eps) / steps };
  let correct = 0;
  for (let a = 0; a < n; a += chunk) {
    const b = Math.min(n, a + chunk);
    const xs = new Tensor(
      [b - a, ...x.shape.slice(1)],
      (x.data as Float32Array).slice(a * d, b * d),
    );
    const ys = new Tensor([b - a], (y.data as Float32Array).slice(a, b));
    const adv = adversarialExamples(model, xs, ys, spec, eps, {
      seed,
      epoch: 0,
      step: 0,
      rowOffset: a,
    });
    correct += countCorrect(model.forward(adv), ys);
  }
  return n ? correct / n : 0;
}

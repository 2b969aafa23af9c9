// The worker task behind `certify --threads`: certificates (and optionally certified radii) of a chunk of
// examples, so a test split is verified on every core. Deterministic: the same chunk gives the same answer on
// any worker.
import type { Sequential } from '../nn/index.ts';
import {
  boundCosts,
  certifiedRadius,
  certify,
  type BoundMethod,
  type Randomness,
} from '../verify/index.ts';

/** What a chunk carries besides the model: its rows and labels, and how to certify them. */
export interface CertifyInput {
  x: Float32Array;
  labels: Int32Array;
  n: number;
  eps: number;
  method: BoundMethod;
  range: [number, number];
  randomness: Randomness;
  /** Also each row's certified radius by bisection. */
  radius: boolean;
}

export interface CertifyTask {
  kind: 'certify';
  model: string;
  input: CertifyInput;
}

export interface CertifyResult {
  kind: 'certify';
  certified: Uint8Array;
  /** Each row's smallest margin lower bound over the other classes. */
  marginLower: Float64Array;
  /** Each row's total width of the logits' interval bounds. */
  logitWidth: Float64Array;
  /** Each row's certified radius (NaN when not asked). */
  radius: Float64Array;
  /** Milliseconds per layer over the chunk: interval propagation, back-substitution. */
  forward: Float64Array;
  backward: Float64Array;
}

export function runCertify(model: Sequential, input: CertifyInput): CertifyResult {
  const { n, eps, method, range, randomness } = input;
  const size = model.inputShape.reduce((a, b) => a * b, 1);
  const costs = boundCosts(model);
  const out: CertifyResult = {
    kind: 'certify',
    certified: new Uint8Array(n),
    marginLower: new Float64Array(n),
    logitWidth: new Float64Array(n),
    radius: new Float64Array(n).fill(NaN),
    forward: costs.forward,
    backward: costs.backward,
  };
  for (let i = 0; i < n; i++) {
    const x = input.x.subarray(i * size, (i + 1) * size),
      y = input.labels[i];
    const c = certify(model, x, y, eps, range, randomness, { method, costs });
    out.certified[i] = c.certified ? 1 : 0;
    let worst = Infinity,
      width = 0;
    for (let j = 0; j < c.marginLower.length; j++) {
      if (j !== y) worst = Math.min(worst, c.marginLower[j]);
      width += c.logits.hi[j] - c.logits.lo[j];
    }
    out.marginLower[i] = worst;
    out.logitWidth[i] = width;
    if (input.radius) out.radius[i] = certifiedRadius(model, x, y, { method, range, randomness });
  }
  return out;
}

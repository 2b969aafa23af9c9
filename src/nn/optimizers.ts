// SGD with momentum and Adam, both with (coupled, L2-style) weight decay. State is a map of named tensors
// so checkpoints can save and restore it exactly. Tensors are values: a step puts NEW parameter tensors in
// the map and never writes the old ones, so anything derived from a parameter (a cached HashedNets virtual
// weight) can be keyed on the tensor's identity.
import { Tensor } from '../tensor/index.ts';

export type OptimizerConfig =
  | { kind: 'sgd'; lr: number; momentum: number; weightDecay: number }
  | { kind: 'adam'; lr: number; beta1: number; beta2: number; eps: number; weightDecay: number };

export interface Optimizer {
  readonly config: OptimizerConfig;
  /** Replaces each tensor of `params` by its updated value, from `grads` (same names), learning rate `lr`. */
  step(params: Map<string, Tensor>, grads: Map<string, Tensor>, lr: number): void;
  /** Internal state (momenta, step count) for checkpoints. */
  state(): Map<string, Tensor>;
  loadState(state: Map<string, Tensor>): void;
}

/** Returns the state buffer `key`, allocating zeros shaped like `like` on first use. */
function slot(state: Map<string, Tensor>, key: string, like: Tensor): Float32Array {
  let t = state.get(key);
  if (!t) {
    t = new Tensor(like.shape, new Float32Array(like.size));
    state.set(key, t);
  }
  return t.data as Float32Array;
}

function checkGrad(name: string, p: Tensor, g: Tensor | undefined): Tensor {
  if (!g || g.size !== p.size)
    throw new Error(`optimizer: gradient for '${name}' missing or of the wrong size`);
  return g;
}

/** SGD: v ← μv + (g + λp); p ← p − lr·v (PyTorch's formulation). */
export function sgd(
  cfg: Partial<Omit<Extract<OptimizerConfig, { kind: 'sgd' }>, 'kind'>> = {},
): Optimizer {
  const config: OptimizerConfig = { kind: 'sgd', lr: 0.01, momentum: 0.9, weightDecay: 0, ...cfg };
  let state = new Map<string, Tensor>();
  return {
    config,
    step(params, grads, lr) {
      for (const [name, p] of params) {
        const g = checkGrad(name, p, grads.get(name)).data;
        const w = Float32Array.from(p.data);
        const v = slot(state, `${name}.momentum`, p);
        for (let i = 0; i < w.length; i++) {
          v[i] = config.momentum * v[i] + g[i] + config.weightDecay * w[i];
          w[i] -= lr * v[i];
        }
        params.set(name, new Tensor(p.shape, w));
      }
    },
    state: () => state,
    loadState(s) {
      state = new Map(s);
    },
  };
}

/** Adam (Kingma & Ba 2015, arXiv 1412.6980) with bias correction; weight decay added to the gradient. */
export function adam(
  cfg: Partial<Omit<Extract<OptimizerConfig, { kind: 'adam' }>, 'kind'>> = {},
): Optimizer {
  const config: OptimizerConfig = {
    kind: 'adam',
    lr: 1e-3,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weightDecay: 0,
    ...cfg,
  };
  const { beta1, beta2, eps, weightDecay } = config;
  let state = new Map<string, Tensor>();
  return {
    config,
    step(params, grads, lr) {
      const t = slot(state, 'step', new Tensor([1], new Float32Array(1)));
      t[0] += 1;
      const c1 = 1 - beta1 ** t[0];
      const c2 = 1 - beta2 ** t[0];
      for (const [name, p] of params) {
        const g = checkGrad(name, p, grads.get(name)).data;
        const w = Float32Array.from(p.data);
        const m = slot(state, `${name}.m`, p);
        const v = slot(state, `${name}.v`, p);
        for (let i = 0; i < w.length; i++) {
          const gi = g[i] + weightDecay * w[i];
          m[i] = beta1 * m[i] + (1 - beta1) * gi;
          v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
          w[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
        }
        params.set(name, new Tensor(p.shape, w));
      }
    },
    state: () => state,
    loadState(s) {
      state = new Map(s);
    },
  };
}

/** Builds an optimizer from its serialized config (checkpoints store the config). */
export function optimizerFromConfig(config: OptimizerConfig): Optimizer {
  const { kind, ...rest } = config;
  return kind === 'sgd' ? sgd(rest) : adam(rest);
}

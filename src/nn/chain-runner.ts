// The one place that picks an engine for a network: the active backend's async chain (WebGPU), its compiled
// chain (WASM), or the autodiff layer by layer (always correct; the oracle the others are tested against).
// It owns the compiled chains of one model and the fallback when a device gives up.
import { gradients, noGrad, currentTape } from '../autodiff/index.ts';
import { getBackend } from '../backend/index.ts';
import {
  ChainFault,
  LAYER_KERNEL,
  type AsyncChain,
  type Backend,
  type ChainLayer,
  type CompiledChain,
  type Tensor,
} from '../tensor/index.ts';
import type { LayerSpec } from './layer-spec.ts';
import { layerForward } from './layers.ts';

/** A layer the compiled engines run: its type is one of LAYER_KERNEL's (tensor/chain.ts). */
export function isChainLayer(spec: LayerSpec): spec is Extract<LayerSpec, ChainLayer> {
  return Object.hasOwn(LAYER_KERNEL, spec.type);
}

/**
 * The layers as the compiled engines take them, or null when one of them is a type no engine runs (leaky
 * relu, sigmoid, tanh, clip, affine: imported models): such a model runs on the autodiff, layer by layer.
 */
export function chainLayers(layers: readonly LayerSpec[]): readonly ChainLayer[] | null {
  return layers.every(isChainLayer) ? layers : null;
}

/** What a loss-gradient call returns: the summed loss, the logits and the gradients asked for. */
export interface LossGradients {
  loss: number;
  logits: Tensor;
  dx: Tensor | null;
  grads: Map<string, Tensor> | null;
}
export type Want = { input?: boolean; params?: boolean };
type Params = ReadonlyMap<string, Tensor>;

/**
 * The compiled chain's forward and backward over x: the autodiff differentiates only loss(logits), which may
 * couple rows, so it sees all of them. (An engine with bounded memory slices large batches itself.)
 */
function chainGradients(
  chain: CompiledChain,
  x: Tensor,
  loss: (logits: Tensor) => Tensor,
  which: { input: boolean; params: boolean },
) {
  const logits = chain.forward(x, which.params ? 'params' : true);
  const {
    value,
    grads: [dLogits],
  } = gradients(() => loss(logits), [logits]);
  return { value, logits, r: chain.backward(dLogits, which) };
}

export class ChainRunner {
  private sync: { backend: Backend; tensors: Tensor[]; chain: CompiledChain | null } | null = null;
  private async: { backend: Backend; chain: AsyncChain } | null = null;
  private gpuTail: Promise<unknown> = Promise.resolve();
  /** The layers as a chain compiles them; null where some layer has no kernel (always the autodiff). */
  private readonly chainable: readonly ChainLayer[] | null;

  /** `names`: the parameter tensors in layer order (the order gradients are returned in). */
  constructor(
    private readonly layers: readonly LayerSpec[],
    private readonly inputShape: readonly number[],
    private readonly names: readonly string[],
  ) {
    this.chainable = chainLayers(layers);
  }

  /** Logits through the autodiff ops, layer by layer. */
  private autodiffForward(x: Tensor, params: Params): Tensor {
    let h = x;
    for (const spec of this.layers) h = layerForward(spec, h, params);
    return h;
  }

  /**
   * The backend's compiled chain with these parameters swapped in, or null where the autodiff runs: a scope
   * recording gradients, f64 input or parameters, a layer type no engine runs, or a backend that compiles
   * nothing for these layers.
   */
  private compiled(x: Tensor, params: Params): CompiledChain | null {
    const backend = getBackend();
    const layers = this.chainable;
    if (!layers || !backend.compileChain || currentTape() !== null || x.dtype !== 'f32')
      return null;
    const tensors = this.names.map((n) => params.get(n)!);
    const c = this.sync;
    if (c && c.backend === backend && c.tensors.every((t, i) => t === tensors[i])) return c.chain;
    if (tensors.some((t) => t.dtype !== 'f32')) return null;
    // Same backend, new tensors (a training step, a random defense's draw): swap them into the chain in place.
    if (c && c.backend === backend && c.chain) {
      c.chain.setParams(params);
      this.sync = { backend, tensors, chain: c.chain };
      return c.chain;
    }
    c?.chain?.dispose();
    const chain = backend.compileChain(layers, params, this.inputShape);
    this.sync = { backend, tensors, chain };
    return chain;
  }

  forward(x: Tensor, params: Params): Tensor {
    const chain = this.compiled(x, params);
    return chain ? chain.forward(x) : this.autodiffForward(x, params);
  }

  /**
   * With a compiled chain (and no enclosing gradient scope) the network's forward and backward run compiled
   * and the autodiff differentiates only loss(logits); otherwise the autodiff runs end to end. Both give the
   * same numbers up to float32 rounding (tests compare them).
   */
  lossGradients(
    x: Tensor,
    loss: (logits: Tensor) => Tensor,
    want: Want,
    params: Params,
  ): LossGradients {
    const chain = this.compiled(x, params);
    if (chain) {
      const { value, logits, r } = chainGradients(chain, x, loss, {
        input: Boolean(want.input),
        params: Boolean(want.params),
      });
      return { loss: value.item(), logits, dx: r.dx, grads: this.ordered(r.grads) };
    }
    const inputs = [
      ...(want.input ? [x] : []),
      ...(want.params ? this.names.map((n) => params.get(n)!) : []),
    ];
    let logits = x;
    const { value, grads } = gradients(
      () => loss((logits = this.autodiffForward(x, params))),
      inputs,
    );
    const off = want.input ? 1 : 0;
    return {
      loss: value.item(),
      logits,
      dx: want.input ? grads[0] : null,
      grads: want.params ? new Map(this.names.map((n, i) => [n, grads[off + i]])) : null,
    };
  }

  /** Gradients by name in layer order (the order optimizers and files use). */
  private ordered(grads: Map<string, Tensor> | null): Map<string, Tensor> | null {
    return grads && new Map(this.names.map((n) => [n, grads.get(n)!]));
  }

  /**
   * The active backend's async chain (compiled once per backend; parameters are swapped in per call), or null
   * where the call takes the synchronous path: a backend without compileAsyncChain (every CPU backend), an
   * enclosing gradient scope, f64 or empty input, or layers the chain does not cover. A null compile is not
   * cached: a backend rebuilding a lost device answers null until it is back.
   */
  private asyncCompiled(x: Tensor, params: Params): AsyncChain | null {
    const backend = getBackend();
    const layers = this.chainable;
    if (
      !layers ||
      !backend.compileAsyncChain ||
      currentTape() !== null ||
      x.dtype !== 'f32' ||
      x.shape[0] === 0
    )
      return null;
    const c = this.async;
    if (c && c.backend === backend) return c.chain;
    c?.chain.dispose();
    this.async = null;
    const chain = backend.compileAsyncChain(layers, params, this.inputShape);
    if (chain) this.async = { backend, chain };
    return chain;
  }

  /**
   * Runs `gpu` on the async chain, one call at a time (a forward's kept activations belong to its backward).
   * A ChainFault (device lost, out of device memory) reruns the call with `cpu`; the dead chain is dropped
   * so the next call compiles afresh (or stays on CPU while the backend has no device).
   */
  private onChain<T>(chain: AsyncChain, gpu: () => Promise<T>, cpu: () => T): Promise<T> {
    const run = async () => {
      try {
        return await gpu();
      } catch (e) {
        if (!(e instanceof ChainFault)) throw e;
        if (e.reason !== 'too-large' && this.async?.chain === chain) {
          chain.dispose();
          this.async = null;
        }
        return noGrad(cpu);
      }
    };
    const r = this.gpuTail.then(run, run);
    this.gpuTail = r.catch(() => undefined);
    return r;
  }

  /** forward() on the async chain where there is one (one readback); else forward() itself, computed now. */
  forwardAsync(x: Tensor, params: Params): Promise<Tensor> {
    const chain = this.asyncCompiled(x, params);
    if (!chain) return Promise.resolve(this.forward(x, params));
    return this.onChain(
      chain,
      () => {
        chain.setParams(params);
        return chain.forward(x);
      },
      () => this.forward(x, params),
    );
  }

  /**
   * lossGradients() with the network's forward and backward on the async chain (one readback each) and the
   * autodiff on loss(logits) only; without one, lossGradients() itself, computed now (bit-identical).
   */
  lossGradientsAsync(
    x: Tensor,
    loss: (logits: Tensor) => Tensor,
    want: Want,
    params: Params,
  ): Promise<LossGradients> {
    const chain = this.asyncCompiled(x, params);
    if (!chain) return Promise.resolve(this.lossGradients(x, loss, want, params));
    return this.onChain(
      chain,
      async () => {
        chain.setParams(params);
        const logits = await chain.forward(x, true);
        const {
          value,
          grads: [dLogits],
        } = gradients(() => loss(logits), [logits]);
        const r = await chain.backward(dLogits, {
          input: Boolean(want.input),
          params: Boolean(want.params),
        });
        return { loss: value.item(), logits, dx: r.dx, grads: this.ordered(r.grads) };
      },
      () => this.lossGradients(x, loss, want, params),
    );
  }

  /** Gives back the synchronous chain's memory (the wasm arena) now; the next call compiles again. */
  release(): void {
    this.sync?.chain?.dispose();
    this.sync = null;
  }
}

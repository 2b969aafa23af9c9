// A model: an input shape, a list of layer specs and the parameter tensors they name. Forward runs through
// the autodiff ops, so gradients with respect to inputs and parameters come from the same code; when nothing
// records gradients and the backend can compile the whole chain, inference runs as one compiled plan. The
// *Async methods hand the whole network to a backend's async chain (WebGPU) and are the sync ones elsewhere.
import { gradients, noGrad, ops, currentTape } from '../autodiff/index.ts';
import { getBackend } from '../backend/index.ts';
import { ChainFault, type AsyncChain, type Backend, type CompiledChain, type InferenceStep, sameShape, shapeStr, Tensor } from '../tensor/index.ts';
import { hashTable } from '../hash/index.ts';
import { layerTensors, virtualWeightShape, type LayerSpec } from './layer-spec.ts';
import { layerForward, layerOutputShape, virtualWeight } from './layers.ts';

/** The layers as backend inference steps (hashed layers by their cached virtual weights), or null if one has no step. */
function inferenceSteps(layers: readonly LayerSpec[], params: ReadonlyMap<string, Tensor>): InferenceStep[] | null {
  const steps: InferenceStep[] = [];
  for (const spec of layers) {
    switch (spec.type) {
      case 'dense': case 'hashed-dense': case 'conv2d': case 'hashed-conv2d': {
        const stored = params.get(spec.weight)!;
        const weight = spec.type === 'hashed-dense' || spec.type === 'hashed-conv2d' ? virtualWeight(spec, stored) : stored;
        const bias = params.get(spec.bias)!;
        steps.push(spec.type === 'dense' || spec.type === 'hashed-dense'
          ? { kind: 'dense', weight, bias }
          : { kind: 'conv2d', weight, bias, params: { stride: spec.stride, padding: spec.padding } });
        break;
      }
      case 'relu': steps.push({ kind: 'relu' }); break;
      case 'flatten': steps.push({ kind: 'flatten' }); break;
      case 'maxpool2d': steps.push({ kind: 'maxPool2d', params: { kernelSize: spec.kernelSize, stride: spec.stride } }); break;
      default: return null;
    }
  }
  return steps;
}

/**
 * Most rows a compiled chain runs at once. A chain lays out memory for the largest batch it has seen (for a
 * CIFAR CNN about 1.7 MB per image with im2col), and wasm32 memory ends at 4 GiB, so larger batches run in
 * slices of this many rows: same results (parameter gradients summed over slices), bounded memory.
 */
export const CHAIN_ROWS = 256;

/** Rows [start, end) of a batch, as a copy. */
function rows(x: Tensor, start: number, end: number): Tensor {
  const per = x.size / x.shape[0];
  return new Tensor([end - start, ...x.shape.slice(1)], x.data.slice(start * per, end * per) as Float32Array);
}

/** Concatenates f32 tensors along the batch axis. */
function concatRows(parts: Tensor[]): Tensor {
  const data = new Float32Array(parts.reduce((n, t) => n + t.size, 0));
  let at = 0;
  for (const t of parts) { data.set(t.data, at); at += t.size; }
  return new Tensor([parts.reduce((n, t) => n + t.shape[0], 0), ...parts[0].shape.slice(1)], data);
}

/** forward(x) of a chain in slices of CHAIN_ROWS rows. */
function chainForward(chain: CompiledChain, x: Tensor): Tensor {
  const n = x.shape[0];
  if (n <= CHAIN_ROWS) return chain.forward(x);
  const parts: Tensor[] = [];
  for (let s = 0; s < n; s += CHAIN_ROWS) parts.push(chain.forward(rows(x, s, Math.min(n, s + CHAIN_ROWS))));
  return concatRows(parts);
}

export class Sequential {
  readonly inputShape: readonly number[];
  readonly layers: readonly LayerSpec[];
  /** Parameters by name, in layer order. Replaced (not mutated) by optimizers. */
  params: Map<string, Tensor>;
  /** Number of classes (the last layer's output size). */
  readonly numClasses: number;

  constructor(inputShape: readonly number[], layers: readonly LayerSpec[], params: Map<string, Tensor>) {
    this.inputShape = [...inputShape];
    this.layers = layers;
    let shape: number[] = [...inputShape];
    layers.forEach((spec, i) => {
      for (const { name, shape: want } of layerTensors(spec)) {
        const t = params.get(name);
        if (!t) throw new Error(`layers[${i}] (${spec.type}): missing tensor '${name}'`);
        if (!sameShape(t.shape, want)) throw new Error(`layers[${i}] (${spec.type}): tensor '${name}' has shape ${shapeStr(t.shape)}, expected ${shapeStr(want)}`);
      }
      shape = layerOutputShape(spec, shape, i);
    });
    if (shape.length !== 1) throw new Error(`model: output shape ${shapeStr(shape)} is not a vector of class scores`);
    this.numClasses = shape[0];
    this.params = params;
  }

  /** Logits [N, classes] for a batch x [N, ...inputShape]. */
  forward(x: Tensor, params: ReadonlyMap<string, Tensor> = this.params): Tensor {
    const want = [x.shape[0], ...this.inputShape];
    if (!sameShape(x.shape, want)) throw new Error(`model: input shape ${shapeStr(x.shape)} does not match ${shapeStr(want)}`);
    if (currentTape() === null && x.dtype === 'f32') {
      const chain = this.compiled(getBackend(), params);
      if (chain) return chainForward(chain, x);
    }
    let h = x;
    for (const spec of this.layers) h = layerForward(spec, h, params);
    return h;
  }

  private chain: { backend: Backend; tensors: Tensor[]; chain: CompiledChain | null } | null = null;

  /**
   * The backend's compiled chain for these parameters, rebuilt when the backend or any parameter tensor
   * changes (tensors are values: training replaces them), or null where the backend compiles nothing.
   */
  private compiled(backend: Backend, params: ReadonlyMap<string, Tensor>): CompiledChain | null {
    if (!backend.compileChain) return null;
    const tensors = this.parameterNames().map((n) => params.get(n)!);
    const c = this.chain;
    if (c && c.backend === backend && c.tensors.length === tensors.length && c.tensors.every((t, i) => t === tensors[i])) return c.chain;
    const steps = inferenceSteps(this.layers, params);
    // Same backend, new tensors (a training step): swap the weights into the compiled chain in place.
    if (c && c.backend === backend && c.chain && steps && c.chain.setWeights(steps)) {
      this.chain = { backend, tensors, chain: c.chain };
      return c.chain;
    }
    c?.chain?.dispose();
    const chain = steps ? backend.compileChain(steps, this.inputShape) : null;
    this.chain = { backend, tensors, chain };
    return chain;
  }

  /**
   * A scalar loss of the logits of batch x, the logits, and the gradients asked for: dL/dx and/or dL/dθ for
   * every parameter (by name). With a compiled chain (and no enclosing gradient scope) the network's
   * forward and backward run compiled and the autodiff differentiates only loss(logits); otherwise the
   * autodiff runs end to end. Both give the same numbers up to float32 rounding (tests compare them).
   */
  lossGradients(x: Tensor, loss: (logits: Tensor) => Tensor, want: { input?: boolean; params?: boolean }, params: ReadonlyMap<string, Tensor> = this.params): {
    loss: number; logits: Tensor; dx: Tensor | null; grads: Map<string, Tensor> | null;
  } {
    const names = this.parameterNames();
    const chain = currentTape() === null && x.dtype === 'f32' ? this.compiled(getBackend(), params) : null;
    if (chain) {
      const n = x.shape[0], which = { input: Boolean(want.input), params: Boolean(want.params) };
      let logits: Tensor, value: Tensor, r: ReturnType<CompiledChain['backward']>;
      if (n <= CHAIN_ROWS) {
        logits = chain.forward(x, which.params ? 'params' : true);
        let dLogits: Tensor;
        ({ value, grads: [dLogits] } = gradients(() => loss(logits), [logits]));
        r = chain.backward(dLogits, which);
      } else {
        // The loss may couple rows, so it sees all logits; then each slice runs forward again (kept) and
        // backward with its rows of dL/dlogits. Parameter gradients add up over slices.
        logits = chainForward(chain, x);
        let dLogits: Tensor;
        ({ value, grads: [dLogits] } = gradients(() => loss(logits), [logits]));
        const dxs: Tensor[] = [];
        let params: ({ weight: Tensor; bias: Tensor } | null)[] = [];
        for (let s = 0; s < n; s += CHAIN_ROWS) {
          const e = Math.min(n, s + CHAIN_ROWS);
          chain.forward(rows(x, s, e), which.params ? 'params' : true);
          const part = chain.backward(rows(dLogits, s, e), which);
          if (part.dx) dxs.push(part.dx);
          params = s === 0 ? part.params : params.map((g, i) => g && { weight: ops.add(g.weight, part.params[i]!.weight), bias: ops.add(g.bias, part.params[i]!.bias) });
        }
        r = { dx: dxs.length ? concatRows(dxs) : null, params };
      }
      let grads: Map<string, Tensor> | null = null;
      if (want.params) {
        grads = new Map();
        this.layers.forEach((spec, i) => {
          const g = r.params[i];
          if (!g || !('weight' in spec)) return;
          let dw = g.weight;
          if (spec.type === 'hashed-dense' || spec.type === 'hashed-conv2d') {
            // The chain differentiates the virtual weight; the real weights get its scatter over buckets.
            const [rows, ...rest] = virtualWeightShape(spec);
            dw = getBackend().hashScatter(g.weight, hashTable(rows, rest.reduce((a, b) => a * b, 1), spec.hash.seed, spec.hash.buckets));
          }
          grads!.set(spec.weight, dw.reshape(params.get(spec.weight)!.shape));
          grads!.set(spec.bias, g.bias);
        });
        grads = new Map(names.map((n) => [n, grads!.get(n)!]));
      }
      return { loss: value.item(), logits, dx: r.dx, grads };
    }
    const inputs = [...(want.input ? [x] : []), ...(want.params ? names.map((n) => params.get(n)!) : [])];
    let logits = x;
    const { value, grads } = gradients(() => loss((logits = this.forward(x, params))), inputs);
    const off = want.input ? 1 : 0;
    return {
      loss: value.item(), logits, dx: want.input ? grads[0] : null,
      grads: want.params ? new Map(names.map((n, i) => [n, grads[off + i]])) : null,
    };
  }

  private asyncChain: { backend: Backend; chain: AsyncChain } | null = null;
  private gpuTail: Promise<unknown> = Promise.resolve();

  /**
   * Gives back the memory of this model's synchronous compiled chain (the wasm arena) now instead of at garbage
   * collection, which may come late: the arena is not JS heap, so it puts no pressure on the collector. The model
   * stays usable; its next call compiles again. For short-lived models (a calibration sweep builds one per ε).
   */
  releaseCompiled(): void {
    this.chain?.chain?.dispose();
    this.chain = null;
  }

  /**
   * The active backend's async chain (compiled once per backend; parameters are swapped in per call), or null
   * where the call takes the synchronous path: a backend without compileAsyncChain (every CPU backend), an
   * enclosing gradient scope, f64 or empty input, or layers the chain does not cover. A null compile is not
   * cached: a backend rebuilding a lost device answers null until it is back. Throws on a wrong input shape.
   */
  private asyncCompiled(x: Tensor): AsyncChain | null {
    const want = [x.shape[0], ...this.inputShape];
    if (!sameShape(x.shape, want)) throw new Error(`model: input shape ${shapeStr(x.shape)} does not match ${shapeStr(want)}`);
    const backend = getBackend();
    if (!backend.compileAsyncChain || currentTape() !== null || x.dtype !== 'f32' || x.shape[0] === 0) return null;
    const c = this.asyncChain;
    if (c && c.backend === backend) return c.chain;
    c?.chain.dispose();
    this.asyncChain = null;
    const chain = backend.compileAsyncChain(this.layers, this.params, this.inputShape);
    if (chain) this.asyncChain = { backend, chain };
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
        if (e.reason !== 'too-large' && this.asyncChain?.chain === chain) {
          chain.dispose();
          this.asyncChain = null;
        }
        return noGrad(cpu);
      }
    };
    const r = this.gpuTail.then(run, run);
    this.gpuTail = r.catch(() => undefined);
    return r;
  }

  /**
   * forward() for callers that can wait: on a backend with an async chain (webgpu) the whole network runs
   * there with one readback; elsewhere it is forward() itself, computed before this returns (so the numbers
   * and any enclosing noGrad scope are exactly those of the synchronous call).
   */
  forwardAsync(x: Tensor, params: ReadonlyMap<string, Tensor> = this.params): Promise<Tensor> {
    try {
      const chain = this.asyncCompiled(x);
      if (!chain) return Promise.resolve(this.forward(x, params));
      return this.onChain(
        chain,
        () => {
          chain.setParams(params);
          return chain.forward(x);
        },
        () => this.forward(x, params),
      );
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * lossGradients() for callers that can wait: with an async chain the network's forward and backward run
   * there (one readback each) and the autodiff differentiates only loss(logits) on the CPU; elsewhere it is
   * lossGradients() itself, computed before this returns (bit-identical to the synchronous call).
   */
  lossGradientsAsync(x: Tensor, loss: (logits: Tensor) => Tensor, want: { input?: boolean; params?: boolean }, params: ReadonlyMap<string, Tensor> = this.params): Promise<{
    loss: number; logits: Tensor; dx: Tensor | null; grads: Map<string, Tensor> | null;
  }> {
    try {
      const chain = this.asyncCompiled(x);
      if (!chain) return Promise.resolve(this.lossGradients(x, loss, want, params));
      return this.onChain(
        chain,
        async () => {
          chain.setParams(params);
          const logits = await chain.forward(x, true);
          const { value, grads: [dLogits] } = gradients(() => loss(logits), [logits]);
          const r = await chain.backward(dLogits, { input: Boolean(want.input), params: Boolean(want.params) });
          const grads = r.grads && new Map(this.parameterNames().map((n) => [n, r.grads!.get(n)!]));
          return { loss: value.item(), logits, dx: r.dx, grads };
        },
        () => this.lossGradients(x, loss, want, params),
      );
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Predicted class per row (argmax of logits, ties to the lowest index), without recording gradients. */
  predict(x: Tensor): Int32Array {
    const idx = noGrad(() => ops.argmax(this.forward(x), 1));
    return Int32Array.from(idx.data);
  }

  /** Parameter tensors in layer order (the order optimizers and files use). */
  parameterNames(): string[] {
    return this.layers.flatMap((l) => layerTensors(l).map((t) => t.name));
  }

  /** Total number of stored parameter values. */
  parameterCount(): number {
    let n = 0;
    for (const t of this.params.values()) n += t.size;
    return n;
  }
}

// A model: an input shape, a list of layer specs and the parameter tensors they name. Every call goes to the
// model's ChainRunner (chain-runner.ts), which picks the engine: a backend's compiled chain where it has one,
// the autodiff layer by layer otherwise; gradients with respect to inputs and parameters come from either.
import { noGrad, ops } from '../autodiff/index.ts';
import { sameShape, shapeStr, type Tensor } from '../tensor/index.ts';
import { ChainRunner, type LossGradients, type Want } from './chain-runner.ts';
import { layerTensors, type LayerSpec } from './layer-spec.ts';
import { layerOutputShape } from './layers.ts';

export class Sequential {
  readonly inputShape: readonly number[];
  readonly layers: readonly LayerSpec[];
  /** Parameters by name, in layer order. Replaced (not mutated) by optimizers. */
  params: Map<string, Tensor>;
  /** Number of classes (the last layer's output size). */
  readonly numClasses: number;
  private readonly runner: ChainRunner;

  constructor(
    inputShape: readonly number[],
    layers: readonly LayerSpec[],
    params: Map<string, Tensor>,
  ) {
    this.inputShape = [...inputShape];
    this.layers = layers;
    let shape: number[] = [...inputShape];
    layers.forEach((spec, i) => {
      for (const { name, shape: want } of layerTensors(spec)) {
        const t = params.get(name);
        if (!t) throw new Error(`layers[${i}] (${spec.type}): missing tensor '${name}'`);
        if (!sameShape(t.shape, want))
          throw new Error(
            `layers[${i}] (${spec.type}): tensor '${name}' has shape ${shapeStr(t.shape)}, expected ${shapeStr(want)}`,
          );
      }
      shape = layerOutputShape(spec, shape, i);
    });
    if (shape.length !== 1)
      throw new Error(`model: output shape ${shapeStr(shape)} is not a vector of class scores`);
    this.numClasses = shape[0];
    this.params = params;
    this.runner = new ChainRunner(layers, inputShape, this.parameterNames());
  }

  /** Throws when x is not a batch [N, ...inputShape]. */
  private checkInput(x: Tensor): void {
    const want = [x.shape[0], ...this.inputShape];
    if (!sameShape(x.shape, want))
      throw new Error(`model: input shape ${shapeStr(x.shape)} does not match ${shapeStr(want)}`);
  }

  /** Logits [N, classes] for a batch x [N, ...inputShape]. */
  forward(x: Tensor, params: ReadonlyMap<string, Tensor> = this.params): Tensor {
    this.checkInput(x);
    return this.runner.forward(x, params);
  }

  /**
   * A scalar loss of the logits of batch x, the logits, and the gradients asked for: dL/dx and/or dL/dθ for
   * every parameter (by name, in layer order).
   */
  lossGradients(
    x: Tensor,
    loss: (logits: Tensor) => Tensor,
    want: Want,
    params: ReadonlyMap<string, Tensor> = this.params,
  ): LossGradients {
    this.checkInput(x);
    return this.runner.lossGradients(x, loss, want, params);
  }

  /**
   * forward() for callers that can wait: on a backend with an async chain (webgpu) the whole network runs
   * there with one readback; elsewhere it is forward() itself, computed before this returns (so the numbers
   * and any enclosing noGrad scope are exactly those of the synchronous call).
   */
  forwardAsync(x: Tensor, params: ReadonlyMap<string, Tensor> = this.params): Promise<Tensor> {
    try {
      this.checkInput(x);
      return this.runner.forwardAsync(x, params);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** lossGradients() for callers that can wait (see forwardAsync). */
  lossGradientsAsync(
    x: Tensor,
    loss: (logits: Tensor) => Tensor,
    want: Want,
    params: ReadonlyMap<string, Tensor> = this.params,
  ): Promise<LossGradients> {
    try {
      this.checkInput(x);
      return this.runner.lossGradientsAsync(x, loss, want, params);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Gives back the memory of this model's synchronous compiled chain (the wasm arena) now instead of at garbage
   * collection, which may come late: the arena is not JS heap, so it puts no pressure on the collector. The model
   * stays usable; its next call compiles again. For short-lived models (a calibration sweep builds one per ε).
   */
  releaseCompiled(): void {
    this.runner.release();
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

// A model: an input shape, a list of layer specs and the parameter tensors they name. Forward runs through
// the autodiff ops, so gradients with respect to inputs and parameters come from the same code.
import { noGrad } from '../autodiff/grad.ts';
import * as ops from '../autodiff/ops.ts';
import { sameShape, shapeStr, Tensor } from '../tensor/tensor.ts';
import { layerTensors, type LayerSpec } from './layer-spec.ts';
import { layerForward, layerOutputShape } from './layers.ts';

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
    let h = x;
    for (const spec of this.layers) h = layerForward(spec, h, params);
    return h;
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

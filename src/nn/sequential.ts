// A model: an input shape, a list of layer specs and the parameter tensors they name. Forward runs through
// the autodiff ops, so gradients with respect to inputs and parameters come from the same code; when nothing
// records gradients and the backend can compile the whole chain, inference runs as one compiled plan.
import { noGrad } from '../autodiff/grad.ts';
import * as ops from '../autodiff/ops.ts';
import { currentTape } from '../autodiff/tape.ts';
import { getBackend } from '../backend/index.ts';
import type { Backend, InferenceStep } from '../tensor/backend.ts';
import { sameShape, shapeStr, Tensor } from '../tensor/tensor.ts';
import { layerTensors, type LayerSpec } from './layer-spec.ts';
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
      const plan = this.inferencePlan(getBackend(), params);
      if (plan) return plan(x);
    }
    let h = x;
    for (const spec of this.layers) h = layerForward(spec, h, params);
    return h;
  }

  private plan: { backend: Backend; tensors: Tensor[]; run: ((x: Tensor) => Tensor) | null } | null = null;

  /**
   * The backend's compiled inference for these parameters, rebuilt when the backend or any parameter tensor
   * changes (tensors are values: training replaces them), or null where the backend compiles nothing.
   */
  private inferencePlan(backend: Backend, params: ReadonlyMap<string, Tensor>): ((x: Tensor) => Tensor) | null {
    if (!backend.compileInference) return null;
    const tensors = this.parameterNames().map((n) => params.get(n)!);
    const p = this.plan;
    if (p && p.backend === backend && p.tensors.length === tensors.length && p.tensors.every((t, i) => t === tensors[i])) return p.run;
    const steps = inferenceSteps(this.layers, params);
    const run = steps ? backend.compileInference(steps, this.inputShape) : null;
    this.plan = { backend, tensors, run };
    return run;
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

// Forward computation and output-shape rule of every layer type in layer-spec.ts, as one table.
import { ops, isTracked } from '../autodiff/index.ts';
import { shapeStr, type Tensor } from '../tensor/index.ts';
import { hashTable } from '../hash/index.ts';
import {
  virtualWeightShape,
  type HashedConv2dSpec,
  type HashedDenseSpec,
  type LayerSpec,
} from './layer-spec.ts';

/** Parameter lookup by tensor name (the names of model.json / weights.safetensors). */
export type Params = ReadonlyMap<string, Tensor>;

function param(params: Params, name: string): Tensor {
  const t = params.get(name);
  if (!t) throw new Error(`model: missing parameter tensor '${name}'`);
  return t;
}

// Virtual weights of frozen real weights, built once per weight tensor. Tensors are values (optimizers put
// new tensors in the parameter map instead of writing old ones), so identity is a valid cache key.
const virtualCache = new WeakMap<Tensor, Tensor>();

/**
 * The full-size virtual weight of a hashed layer. CPU strategy: when gradients flow into the real weights
 * (training) it is rebuilt through the differentiable op, a gather that costs 1/batch of the layer's
 * matmul; otherwise (inference, attacks on a fixed model) it is materialized once and reused.
 */
export function virtualWeight(spec: HashedDenseSpec | HashedConv2dSpec, w: Tensor): Tensor {
  const shape = virtualWeightShape(spec);
  const table = hashTable(
    shape[0],
    shape.slice(1).reduce((a, b) => a * b, 1),
    spec.hash.seed,
    spec.hash.buckets,
  );
  if (isTracked(w)) return ops.hashGather(w, table, shape);
  let v = virtualCache.get(w);
  if (!v) {
    v = ops.hashGather(w, table, shape);
    virtualCache.set(w, v);
  }
  return v;
}

function conv2dOut(size: number, k: number, s: number, p: number): number {
  return Math.floor((size + 2 * p - k) / s) + 1;
}

/** y = layer(x). Activations are [N, ...] with the per-example shape after N. */
export function layerForward(spec: LayerSpec, x: Tensor, params: Params): Tensor {
  switch (spec.type) {
    case 'dense':
      // weight is [outDim][inDim]: y = x·Wᵀ + b.
      return ops.biasAdd(
        ops.matmul(x, param(params, spec.weight), false, true),
        param(params, spec.bias),
      );
    case 'conv2d':
      return ops.biasAdd(ops.conv2d(x, param(params, spec.weight), spec), param(params, spec.bias));
    case 'hashed-dense':
      return ops.biasAdd(
        ops.matmul(x, virtualWeight(spec, param(params, spec.weight)), false, true),
        param(params, spec.bias),
      );
    case 'hashed-conv2d':
      return ops.biasAdd(
        ops.conv2d(x, virtualWeight(spec, param(params, spec.weight)), spec),
        param(params, spec.bias),
      );
    case 'relu':
      return ops.relu(x);
    case 'maxpool2d':
      return ops.maxPool2d(x, spec);
    case 'avgpool2d':
      return ops.avgPool2d(x, spec);
    case 'flatten':
      return ops.flatten(x);
  }
}

/** Per-example output shape of a layer given its per-example input shape; throws naming the mismatch. */
export function layerOutputShape(
  spec: LayerSpec,
  inShape: readonly number[],
  index: number,
): number[] {
  const fail = (why: string): never => {
    throw new Error(`layers[${index}] (${spec.type}): ${why}, input shape ${shapeStr(inShape)}`);
  };
  switch (spec.type) {
    case 'dense':
    case 'hashed-dense':
      if (inShape.length !== 1 || inShape[0] !== spec.inDim) fail(`expects [${spec.inDim}]`);
      return [spec.outDim];
    case 'conv2d':
    case 'hashed-conv2d': {
      if (inShape.length !== 3 || inShape[0] !== spec.inChannels)
        fail(`expects [${spec.inChannels}, H, W]`);
      const h = conv2dOut(inShape[1], spec.kernelSize, spec.stride, spec.padding);
      const w = conv2dOut(inShape[2], spec.kernelSize, spec.stride, spec.padding);
      if (h < 1 || w < 1) fail('kernel larger than padded input');
      return [spec.outChannels, h, w];
    }
    case 'maxpool2d':
    case 'avgpool2d': {
      if (inShape.length !== 3) fail('expects [C, H, W]');
      const h = conv2dOut(inShape[1], spec.kernelSize, spec.stride, 0);
      const w = conv2dOut(inShape[2], spec.kernelSize, spec.stride, 0);
      if (h < 1 || w < 1) fail('window larger than input');
      return [inShape[0], h, w];
    }
    case 'relu':
      return [...inShape];
    case 'flatten':
      return [inShape.reduce((a, b) => a * b, 1)];
  }
}

// Forward computation and output-shape rule of every layer type in layer-spec.ts, as one table.
import { ops, isTracked } from '../autodiff/index.ts';
import { scalar, shapeStr, Tensor } from '../tensor/index.ts';
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
    case 'leaky-relu':
      // NOTE: at x = 0 the tie goes to maximum's first operand, α·x: the gradient there is α, the left slope
      // (as relu'(0) = 0 and as PyTorch's leaky_relu).
      return ops.maximum(ops.mul(x, spec.alpha), x);
    case 'sigmoid':
      // σ(x) = ½·tanh(x/2) + ½, not 1/(1 + e⁻ˣ): e⁻ˣ overflows float32 below x ≈ −88, and its backward then
      // forms inf/inf = NaN; tanh saturates to ±1 with a finite gradient everywhere. x/2 and the halving are
      // exact in float32, so the one rounding beside tanh's own is the final add (the verifier's error bound).
      return ops.add(ops.mul(ops.tanh(ops.mul(x, 0.5)), 0.5), 0.5);
    case 'tanh':
      return ops.tanh(x);
    case 'clip':
      return ops.clamp(x, spec.min ?? -Infinity, spec.max ?? Infinity);
    case 'affine':
      return ops.add(ops.mul(x, affineConstant(spec.scale, x)), affineConstant(spec.shift, x));
  }
}

/**
 * An affine layer's scale or shift as a constant tensor of x's dtype that broadcasts over x: a scalar for
 * length 1, [1, C, 1, 1] per channel of [N, C, H, W], [1, D] per feature of [N, D] (never trained: no gradient).
 */
function affineConstant(values: readonly number[], x: Tensor): Tensor {
  if (values.length === 1) return scalar(values[0], x.dtype);
  const shape = x.shape.map((d, i) => (i === 1 ? values.length : 1));
  return new Tensor(
    shape,
    x.dtype === 'f64' ? Float64Array.from(values) : Float32Array.from(values),
  );
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
    case 'leaky-relu':
    case 'sigmoid':
    case 'tanh':
    case 'clip':
      return [...inShape];
    case 'flatten':
      return [inShape.reduce((a, b) => a * b, 1)];
    case 'affine': {
      if (spec.scale.length !== spec.shift.length)
        fail(`scale has ${spec.scale.length} entries but shift ${spec.shift.length}`);
      if (inShape.length !== 1 && inShape.length !== 3) fail('expects [C, H, W] or [D]');
      const n = spec.scale.length;
      if (n !== 1 && n !== inShape[0])
        fail(
          `has ${n} scale/shift entries, expects 1 or ${inShape[0]} (one per channel or feature)`,
        );
      return [...inShape];
    }
  }
}

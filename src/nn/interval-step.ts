// One layer of interval bound propagation as differentiable tensors (float32, unwidened: for training; the
// verifier's sound float64 version is src/verify): the box [lo, hi] of a layer's output from its input's.
import { ops } from '../autodiff/index.ts';
import { Tensor } from '../tensor/index.ts';
import { layerForward, virtualWeight, type Params } from './layers.ts';
import type { LayerSpec } from './layer-spec.ts';

/** A layer's weight as it multiplies: the stored one, or a hashed layer's virtual weight (differentiable). */
export function effectiveWeight(spec: LayerSpec, params: Params): Tensor {
  const s = spec as { type: string; weight: string };
  const w0 = params.get(s.weight)!;
  return spec.type === 'hashed-dense' || spec.type === 'hashed-conv2d'
    ? virtualWeight(spec, w0)
    : w0;
}

export function intervalStep(
  spec: LayerSpec,
  lo: Tensor,
  hi: Tensor,
  params: Params,
): { lo: Tensor; hi: Tensor } {
  switch (spec.type) {
    case 'dense':
    case 'hashed-dense':
    case 'conv2d':
    case 'hashed-conv2d': {
      // Centre through the layer, half-width through |W| without the bias.
      const mid = ops.mul(ops.add(lo, hi), 0.5),
        rad = ops.mul(ops.sub(hi, lo), 0.5);
      const w = effectiveWeight(spec, params);
      const c = layerForward(spec, mid, params);
      const r =
        spec.type === 'dense' || spec.type === 'hashed-dense'
          ? ops.matmul(rad, ops.abs(w), false, true)
          : ops.conv2d(rad, ops.abs(w), spec);
      return { lo: ops.sub(c, r), hi: ops.add(c, r) };
    }
    case 'affine': {
      // A negative scale swaps the ends: each output bound is the smaller / larger image of the two.
      const a = layerForward(spec, lo, params),
        b = layerForward(spec, hi, params);
      return { lo: ops.minimum(a, b), hi: ops.maximum(a, b) };
    }
    default:
      // relu, leaky relu, sigmoid, tanh, clip, max and average pooling, flatten: nondecreasing, so each bound
      // goes through alone.
      return { lo: layerForward(spec, lo, params), hi: layerForward(spec, hi, params) };
  }
}

/** The input box [x − ε, x + ε] ∩ [0, 1] as constant tensors. */
export function inputInterval(x: Tensor, eps: number): { lo: Tensor; hi: Tensor } {
  const src = x.data as Float32Array;
  return {
    lo: new Tensor(
      x.shape,
      src.map((v) => Math.max(0, v - eps)),
    ),
    hi: new Tensor(
      x.shape,
      src.map((v) => Math.min(1, v + eps)),
    ),
  };
}

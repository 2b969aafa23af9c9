// Serializable layer descriptions: the `layers` array of model.json and the single source of the tensor
// names and shapes each layer owns. Layout: NCHW activations, dense weight [outDim][inDim], conv weight
// [outChannels][inChannels][kernelSize][kernelSize]; hashed layers store only their K real weights.

import type { Conv2dFields, DenseFields, HashParams } from '../tensor/index.ts';

export type { HashParams };
export type DenseSpec = { type: 'dense' } & DenseFields;
export type Conv2dSpec = { type: 'conv2d' } & Conv2dFields;
/** A dense layer whose [outDim][inDim] virtual weight reads `hash.buckets` real weights (tensor shape [K]). */
export type HashedDenseSpec = Omit<DenseSpec, 'type'> & { type: 'hashed-dense'; hash: HashParams };
/** A conv layer whose virtual weight reads K real weights; j = (ci·k + ky)·k + kx. */
export type HashedConv2dSpec = Omit<Conv2dSpec, 'type'> & {
  type: 'hashed-conv2d';
  hash: HashParams;
};
export type ReluSpec = { type: 'relu' };
export type Pool2dSpec = { type: 'maxpool2d' | 'avgpool2d'; kernelSize: number; stride: number };
export type FlattenSpec = { type: 'flatten' };
/** max(x, alpha·x) with 0 ≤ alpha < 1 (ONNX LeakyRelu). */
export type LeakyReluSpec = { type: 'leaky-relu'; alpha: number };
export type SigmoidSpec = { type: 'sigmoid' };
export type TanhSpec = { type: 'tanh' };
/** min(max(x, min), max); null is an open side (ONNX Clip with one bound). */
export type ClipSpec = { type: 'clip'; min: number | null; max: number | null };
/**
 * y = x·scale[c] + shift[c] per channel of [C, H, W] (or per feature of [D]); arrays of length 1 broadcast.
 * Fixed constants of the architecture (an imported model's input normalization, a batch norm that no linear
 * layer precedes), stored in model.json and never trained.
 */
export type AffineSpec = { type: 'affine'; scale: number[]; shift: number[] };

export type LayerSpec =
  | DenseSpec
  | Conv2dSpec
  | HashedDenseSpec
  | HashedConv2dSpec
  | ReluSpec
  | Pool2dSpec
  | FlattenSpec
  | LeakyReluSpec
  | SigmoidSpec
  | TanhSpec
  | ClipSpec
  | AffineSpec;
/** Layers that own a weight matrix (dense or hashed). */
export type WeightedSpec = DenseSpec | Conv2dSpec | HashedDenseSpec | HashedConv2dSpec;

export function isWeighted(spec: LayerSpec): spec is WeightedSpec {
  return (
    spec.type === 'dense' ||
    spec.type === 'conv2d' ||
    spec.type === 'hashed-dense' ||
    spec.type === 'hashed-conv2d'
  );
}

/** Full (virtual) weight shape of a weighted layer. */
export function virtualWeightShape(spec: WeightedSpec): number[] {
  return spec.type === 'dense' || spec.type === 'hashed-dense'
    ? [spec.outDim, spec.inDim]
    : [spec.outChannels, spec.inChannels, spec.kernelSize, spec.kernelSize];
}

/** Fan-in of a weighted layer: inDim, or inChannels·k². */
export function fanIn(spec: WeightedSpec): number {
  return spec.type === 'dense' || spec.type === 'hashed-dense'
    ? spec.inDim
    : spec.inChannels * spec.kernelSize * spec.kernelSize;
}

/** Tensor names and shapes a layer stores in weights.safetensors, in storage order. */
export function layerTensors(spec: LayerSpec): { name: string; shape: number[] }[] {
  switch (spec.type) {
    case 'dense':
      return [
        { name: spec.weight, shape: [spec.outDim, spec.inDim] },
        { name: spec.bias, shape: [spec.outDim] },
      ];
    case 'conv2d':
      return [
        {
          name: spec.weight,
          shape: [spec.outChannels, spec.inChannels, spec.kernelSize, spec.kernelSize],
        },
        { name: spec.bias, shape: [spec.outChannels] },
      ];
    case 'hashed-dense':
      return [
        { name: spec.weight, shape: [spec.hash.buckets] },
        { name: spec.bias, shape: [spec.outDim] },
      ];
    case 'hashed-conv2d':
      return [
        { name: spec.weight, shape: [spec.hash.buckets] },
        { name: spec.bias, shape: [spec.outChannels] },
      ];
    default:
      return [];
  }
}

// Serializable layer descriptions: the `layers` array of model.json and the single source of the tensor
// names and shapes each layer owns. Layout: NCHW activations, dense weight [outDim][inDim], conv weight
// [outChannels][inChannels][kernelSize][kernelSize].

export type DenseSpec = { type: 'dense'; inDim: number; outDim: number; weight: string; bias: string };
export type Conv2dSpec = {
  type: 'conv2d';
  inChannels: number;
  outChannels: number;
  kernelSize: number;
  stride: number;
  padding: number;
  weight: string;
  bias: string;
};
export type ReluSpec = { type: 'relu' };
export type Pool2dSpec = { type: 'maxpool2d' | 'avgpool2d'; kernelSize: number; stride: number };
export type FlattenSpec = { type: 'flatten' };

export type LayerSpec = DenseSpec | Conv2dSpec | ReluSpec | Pool2dSpec | FlattenSpec;

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
        { name: spec.weight, shape: [spec.outChannels, spec.inChannels, spec.kernelSize, spec.kernelSize] },
        { name: spec.bias, shape: [spec.outChannels] },
      ];
    default:
      return [];
  }
}

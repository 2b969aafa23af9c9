// Layer specs of the small models tests build by hand: one line per layer instead of a field per line.
import type { LayerSpec } from '../../src/nn/index.ts';

/** A conv2d (hashed when `buckets` is given, with hash seed `seed`) whose tensors are `<name>.w` and `<name>.b`. */
export function conv(
  name: string,
  inChannels: number,
  outChannels: number,
  kernelSize: number,
  stride: number,
  padding: number,
  hash?: { buckets: number; seed: number },
): LayerSpec {
  const fields = {
    inChannels,
    outChannels,
    kernelSize,
    stride,
    padding,
    weight: `${name}.w`,
    bias: `${name}.b`,
  };
  return hash ? { type: 'hashed-conv2d', ...fields, hash } : { type: 'conv2d', ...fields };
}

/** A dense layer (hashed when `hash` is given) whose tensors are `<name>.w` and `<name>.b`. */
export function dense(
  name: string,
  inDim: number,
  outDim: number,
  hash?: { buckets: number; seed: number },
): LayerSpec {
  const fields = { inDim, outDim, weight: `${name}.w`, bias: `${name}.b` };
  return hash ? { type: 'hashed-dense', ...fields, hash } : { type: 'dense', ...fields };
}

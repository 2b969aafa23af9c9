// bias-add on the WebAssembly SIMD kernel (bias_add) for f32 [N, C, ...] activations; other inputs go to the
// reference kernel, which names every shape error.
import { type Backend, Tensor } from '../../tensor/index.ts';
import { referenceBackend as ref } from '../cpu/index.ts';
import { isF32 } from './f32.ts';
import { copyOut, scratchWith } from './module.ts';

export const biasAdd: Backend['biasAdd'] = (x: Tensor, b: Tensor) => {
  if (
    x.rank < 2 ||
    b.rank !== 1 ||
    b.shape[0] !== x.shape[1] ||
    !isF32(x) ||
    !isF32(b) ||
    x.size === 0
  )
    return ref.biasAdd(x, b);
  const [n, c] = x.shape;
  const {
    kernels,
    offsets: [px, pb],
    views: [vx],
  } = scratchWith([x.data, b.data]);
  kernels.bias_add(px, pb, px, n * c, c, x.size / (n * c));
  return new Tensor(x.shape, copyOut(vx, vx.length));
};

// max-pool2d and max-pool2d-grad-input on the WebAssembly kernel (max_pool2d: a 2×2 stride-2 fast path and
// the general window) for f32 NCHW tensors; other inputs go to the reference kernels.
import { type Backend, type Pool2dParams, Tensor } from '../../tensor/index.ts';
import { referenceBackend as ref, sweepSize, type PoolGeometry } from '../cpu/index.ts';
import { isF32, sameShape } from './f32.ts';
import { copyOut, scratchWith } from './module.ts';

/** The reference's window geometry, or null where the kernel does not run (non-integer or empty windows). */
function poolShape(x: Tensor, { kernelSize: k, stride: s }: Pool2dParams): PoolGeometry | null {
  if (x.rank !== 4 || !(Number.isInteger(k) && k >= 1) || !(Number.isInteger(s) && s >= 1))
    return null;
  const [n, c, h, w] = x.shape;
  const oh = sweepSize(h, k, s, 0),
    ow = sweepSize(w, k, s, 0);
  return oh >= 1 && ow >= 1 && n * c > 0 ? { planes: n * c, h, w, k, s, oh, ow } : null;
}

export const maxPool2d: Backend['maxPool2d'] = (x: Tensor, p: Pool2dParams) => {
  const g = poolShape(x, p);
  if (!g || !isF32(x)) return ref.maxPool2d(x, p);
  const ny = g.planes * g.oh * g.ow;
  const {
    kernels,
    offsets: [px, py],
    views: [, vy],
  } = scratchWith([x.data], [ny]);
  kernels.max_pool2d(0, px, 0, py, g.planes, g.h, g.w, g.k, g.s, g.oh, g.ow);
  return new Tensor([x.shape[0], x.shape[1], g.oh, g.ow], copyOut(vy, vy.length));
};

export const maxPool2dGradInput: Backend['maxPool2dGradInput'] = (
  x: Tensor,
  dy: Tensor,
  p: Pool2dParams,
) => {
  const g = poolShape(x, p);
  if (!g || !isF32(x) || !isF32(dy) || !sameShape(dy.shape, [x.shape[0], x.shape[1], g.oh, g.ow]))
    return ref.maxPool2dGradInput(x, dy, p);
  const {
    kernels,
    offsets: [px, pd, pdx],
    views: [, , vdx],
  } = scratchWith([x.data, dy.data], [x.size]);
  vdx.fill(0);
  kernels.max_pool2d(1, px, pd, pdx, g.planes, g.h, g.w, g.k, g.s, g.oh, g.ow);
  return new Tensor(x.shape, copyOut(vdx, vdx.length));
};

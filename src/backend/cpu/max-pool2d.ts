// Reference max-pool2d and max-pool2d-grad-input (NCHW, square window, no padding): the gradient goes to the
// first (row-major) maximum of each window.
import { type Pool2dParams, alloc, Tensor } from '../../tensor/index.ts';
import { resultDType } from './elementwise.ts';
import { checkPoolDy, poolGeometry, type PoolGeometry } from './pool-window.ts';

/** Flat input index of the first maximum of output cell (plane, oy, ox); ties keep the lowest index. */
function argmaxInWindow(
  X: ArrayLike<number>,
  g: PoolGeometry,
  plane: number,
  oy: number,
  ox: number,
): number {
  let best = -1;
  for (let ky = 0; ky < g.k; ky++)
    for (let kx = 0; kx < g.k; kx++) {
      const i = (plane * g.h + oy * g.s + ky) * g.w + ox * g.s + kx;
      // NOTE: strict '>' — on ties the gradient goes to the first (row-major) maximum only.
      if (best < 0 || X[i] > X[best]) best = i;
    }
  return best;
}

export function maxPool2d(x: Tensor, params: Pool2dParams): Tensor {
  const g = poolGeometry('max-pool2d', x.shape, params);
  const y = alloc(x.dtype, g.planes * g.oh * g.ow);
  for (let pl = 0; pl < g.planes; pl++)
    for (let oy = 0; oy < g.oh; oy++)
      for (let ox = 0; ox < g.ow; ox++)
        y[(pl * g.oh + oy) * g.ow + ox] = x.data[argmaxInWindow(x.data, g, pl, oy, ox)];
  return new Tensor([x.shape[0], x.shape[1], g.oh, g.ow], y);
}

export function maxPool2dGradInput(x: Tensor, dy: Tensor, params: Pool2dParams): Tensor {
  const g = poolGeometry('max-pool2d', x.shape, params);
  checkPoolDy('max-pool2d', dy, x.shape, g);
  const dx = alloc(resultDType(x, dy), x.size);
  for (let pl = 0; pl < g.planes; pl++)
    for (let oy = 0; oy < g.oh; oy++)
      for (let ox = 0; ox < g.ow; ox++)
        dx[argmaxInWindow(x.data, g, pl, oy, ox)] += dy.data[(pl * g.oh + oy) * g.ow + ox];
  return new Tensor(x.shape, dx);
}

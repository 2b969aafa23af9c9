// Reference avg-pool2d and avg-pool2d-grad-input (NCHW, square window, no padding).
import { type Pool2dParams, alloc, Tensor } from '../../tensor/index.ts';
import { checkPoolDy, poolGeometry } from './pool-window.ts';

export function avgPool2d(x: Tensor, params: Pool2dParams): Tensor {
  const g = poolGeometry('avg-pool2d', x.shape, params);
  const y = alloc(x.dtype, g.planes * g.oh * g.ow);
  const scale = 1 / (g.k * g.k);
  for (let pl = 0; pl < g.planes; pl++)
    for (let oy = 0; oy < g.oh; oy++)
      for (let ox = 0; ox < g.ow; ox++) {
        let acc = 0;
        for (let ky = 0; ky < g.k; ky++)
          for (let kx = 0; kx < g.k; kx++)
            acc += x.data[(pl * g.h + oy * g.s + ky) * g.w + ox * g.s + kx];
        y[(pl * g.oh + oy) * g.ow + ox] = acc * scale;
      }
  return new Tensor([x.shape[0], x.shape[1], g.oh, g.ow], y);
}

export function avgPool2dGradInput(
  dy: Tensor,
  xShape: readonly number[],
  params: Pool2dParams,
): Tensor {
  const g = poolGeometry('avg-pool2d', xShape, params);
  checkPoolDy('avg-pool2d', dy, xShape, g);
  const dx = alloc(dy.dtype, g.planes * g.h * g.w);
  const scale = 1 / (g.k * g.k);
  for (let pl = 0; pl < g.planes; pl++)
    for (let oy = 0; oy < g.oh; oy++)
      for (let ox = 0; ox < g.ow; ox++) {
        const d = dy.data[(pl * g.oh + oy) * g.ow + ox] * scale;
        for (let ky = 0; ky < g.k; ky++)
          for (let kx = 0; kx < g.k; kx++)
            dx[(pl * g.h + oy * g.s + ky) * g.w + ox * g.s + kx] += d;
      }
  return new Tensor(xShape, dx);
}

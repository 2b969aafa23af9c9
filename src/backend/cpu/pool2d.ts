// Reference max and average pooling (NCHW, square window, no padding) and their backward kernels.
import { type Pool2dParams, alloc, shapeStr, Tensor } from '../../tensor/index.ts';
import { resultDType } from './elementwise.ts';
import { outSize } from './conv2d.ts';

interface PoolGeometry { planes: number; h: number; w: number; k: number; s: number; oh: number; ow: number }

function geometry(xShape: readonly number[], { kernelSize, stride }: Pool2dParams): PoolGeometry {
  if (xShape.length !== 4) throw new Error(`pool2d: input must be 4-D NCHW, got ${shapeStr(xShape)}`);
  if (!(kernelSize >= 1) || !(stride >= 1)) throw new Error(`pool2d: invalid kernelSize ${kernelSize} or stride ${stride}`);
  const [n, c, h, w] = xShape;
  return { planes: n * c, h, w, k: kernelSize, s: stride, oh: outSize(h, kernelSize, stride, 0), ow: outSize(w, kernelSize, stride, 0) };
}

/** Flat input index of the first maximum of output cell (plane, oy, ox); ties keep the lowest index. */
function argmaxInWindow(X: ArrayLike<number>, g: PoolGeometry, plane: number, oy: number, ox: number): number {
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
  const g = geometry(x.shape, params);
  const y = alloc(x.dtype, g.planes * g.oh * g.ow);
  for (let pl = 0; pl < g.planes; pl++)
    for (let oy = 0; oy < g.oh; oy++)
      for (let ox = 0; ox < g.ow; ox++) y[(pl * g.oh + oy) * g.ow + ox] = x.data[argmaxInWindow(x.data, g, pl, oy, ox)];
  return new Tensor([x.shape[0], x.shape[1], g.oh, g.ow], y);
}

export function maxPool2dGrad(x: Tensor, dy: Tensor, params: Pool2dParams): Tensor {
  const g = geometry(x.shape, params);
  checkDy(dy, x.shape, g);
  const dx = alloc(resultDType(x, dy), x.size);
  for (let pl = 0; pl < g.planes; pl++)
    for (let oy = 0; oy < g.oh; oy++)
      for (let ox = 0; ox < g.ow; ox++) dx[argmaxInWindow(x.data, g, pl, oy, ox)] += dy.data[(pl * g.oh + oy) * g.ow + ox];
  return new Tensor(x.shape, dx);
}

export function avgPool2d(x: Tensor, params: Pool2dParams): Tensor {
  const g = geometry(x.shape, params);
  const y = alloc(x.dtype, g.planes * g.oh * g.ow);
  const scale = 1 / (g.k * g.k);
  for (let pl = 0; pl < g.planes; pl++)
    for (let oy = 0; oy < g.oh; oy++)
      for (let ox = 0; ox < g.ow; ox++) {
        let acc = 0;
        for (let ky = 0; ky < g.k; ky++)
          for (let kx = 0; kx < g.k; kx++) acc += x.data[(pl * g.h + oy * g.s + ky) * g.w + ox * g.s + kx];
        y[(pl * g.oh + oy) * g.ow + ox] = acc * scale;
      }
  return new Tensor([x.shape[0], x.shape[1], g.oh, g.ow], y);
}

export function avgPool2dGrad(dy: Tensor, xShape: readonly number[], params: Pool2dParams): Tensor {
  const g = geometry(xShape, params);
  checkDy(dy, xShape, g);
  const dx = alloc(dy.dtype, g.planes * g.h * g.w);
  const scale = 1 / (g.k * g.k);
  for (let pl = 0; pl < g.planes; pl++)
    for (let oy = 0; oy < g.oh; oy++)
      for (let ox = 0; ox < g.ow; ox++) {
        const d = dy.data[(pl * g.oh + oy) * g.ow + ox] * scale;
        for (let ky = 0; ky < g.k; ky++)
          for (let kx = 0; kx < g.k; kx++) dx[(pl * g.h + oy * g.s + ky) * g.w + ox * g.s + kx] += d;
      }
  return new Tensor(xShape, dx);
}

function checkDy(dy: Tensor, xShape: readonly number[], g: PoolGeometry): void {
  const want = [xShape[0], xShape[1], g.oh, g.ow];
  if (dy.rank !== 4 || dy.shape.some((d, i) => d !== want[i])) {
    throw new Error(`pool2d backward: gradient ${shapeStr(dy.shape)} does not match output ${shapeStr(want)}`);
  }
}

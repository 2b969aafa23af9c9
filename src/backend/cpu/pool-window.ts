// The window geometry max-pool2d and avg-pool2d share (NCHW, square window, no padding), and the check of a
// backward kernel's incoming gradient against it.
import { type Pool2dParams, shapeStr, type Tensor } from '../../tensor/index.ts';
import { outSize } from './conv2d.ts';

/** One plane's window sweep: h×w in, k×k windows at stride s, oh×ow out (the WASM chain's pooling op too). */
export interface PoolWindow {
  h: number;
  w: number;
  k: number;
  s: number;
  oh: number;
  ow: number;
}

/** The sweep over all n·c planes of an NCHW tensor. */
export interface PoolGeometry extends PoolWindow {
  planes: number;
}

/** `kernel` names the caller in errors (max-pool2d, avg-pool2d). */
export function poolGeometry(
  kernel: string,
  xShape: readonly number[],
  { kernelSize, stride }: Pool2dParams,
): PoolGeometry {
  if (xShape.length !== 4)
    throw new Error(`${kernel}: input must be 4-D NCHW, got ${shapeStr(xShape)}`);
  if (!(kernelSize >= 1) || !(stride >= 1))
    throw new Error(`${kernel}: invalid kernelSize ${kernelSize} or stride ${stride}`);
  const [n, c, h, w] = xShape;
  return {
    planes: n * c,
    h,
    w,
    k: kernelSize,
    s: stride,
    oh: outSize(h, kernelSize, stride, 0),
    ow: outSize(w, kernelSize, stride, 0),
  };
}

export function checkPoolDy(
  kernel: string,
  dy: Tensor,
  xShape: readonly number[],
  g: PoolGeometry,
): void {
  const want = [xShape[0], xShape[1], g.oh, g.ow];
  if (dy.rank !== 4 || dy.shape.some((d, i) => d !== want[i])) {
    throw new Error(
      `${kernel}-grad-input: gradient ${shapeStr(dy.shape)} does not match output ${shapeStr(want)}`,
    );
  }
}

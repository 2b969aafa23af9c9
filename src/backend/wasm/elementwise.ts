// Elementwise, bias-add and max-pool primitives on the WebAssembly SIMD kernels, for f32 tensors in the
// shapes the layers produce (same-shape or tensor-scalar); anything else (broadcasts, f64) goes to the
// reference kernels, which also name every shape error.
import { type Backend, type BinaryOp, type CompareOp, type Pool2dParams, type UnaryOp, Tensor } from '../../tensor/index.ts';
import { referenceBackend as ref } from '../cpu/index.ts';
import { copyOut, scratch } from './module.ts';

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
const isF32 = (t: Tensor): t is Tensor & { data: Float32Array } => t.data instanceof Float32Array;
const ceil4 = (v: number) => (v + 3) & ~3;

export const unary: Backend['unary'] = (op: UnaryOp, x: Tensor) => {
  if (op !== 'relu' || !isF32(x)) return ref.unary(op, x);
  const n = x.size;
  const { kernels, offsets: [px], views: [vx] } = scratch([ceil4(n)]);
  vx.set(x.data);
  kernels.relu(px, px, ceil4(n));
  return new Tensor(x.shape, copyOut(vx, n));
};

export const binary: Backend['binary'] = (op: BinaryOp, a: Tensor, b: Tensor) => {
  if ((op !== 'add' && op !== 'sub' && op !== 'mul') || !isF32(a) || !isF32(b)) return ref.binary(op, a, b);
  const n = a.size;
  if (sameShape(a.shape, b.shape)) {
    const { kernels, offsets: [pa, pb], views: [va, vb] } = scratch([ceil4(n), ceil4(n)]);
    va.set(a.data);
    vb.set(b.data);
    kernels[op](pa, pb, pa, ceil4(n));
    return new Tensor(a.shape, copyOut(va, n));
  }
  if (b.size === 1 && a.rank >= b.rank) {
    const { kernels, offsets: [pa], views: [va] } = scratch([ceil4(n)]);
    va.set(a.data);
    kernels[`${op}_s`](pa, b.data[0], pa, ceil4(n));
    return new Tensor(a.shape, copyOut(va, n));
  }
  return ref.binary(op, a, b);
};

export const compare: Backend['compare'] = (op: CompareOp, a: Tensor, b: Tensor) => {
  if (op === 'eq' || b.size !== 1 || a.rank < b.rank || !isF32(a) || !isF32(b)) return ref.compare(op, a, b);
  const n = a.size;
  const { kernels, offsets: [pa], views: [va] } = scratch([ceil4(n)]);
  va.set(a.data);
  kernels[`${op}_s`](pa, b.data[0], pa, ceil4(n));
  return new Tensor(a.shape, copyOut(va, n));
};

export const biasAdd: Backend['biasAdd'] = (x: Tensor, b: Tensor) => {
  if (x.rank < 2 || b.rank !== 1 || b.shape[0] !== x.shape[1] || !isF32(x) || !isF32(b) || x.size === 0) return ref.biasAdd(x, b);
  const [n, c] = x.shape;
  const { kernels, offsets: [px, pb], views: [vx, vb] } = scratch([x.size, c]);
  vx.set(x.data);
  vb.set(b.data);
  kernels.bias_add(px, pb, px, n * c, c, x.size / (n * c));
  return new Tensor(x.shape, copyOut(vx, vx.length));
};

interface PoolShape { planes: number; h: number; w: number; oh: number; ow: number }

function poolShape(x: Tensor, { kernelSize: k, stride: s }: Pool2dParams): PoolShape | null {
  if (x.rank !== 4 || !(Number.isInteger(k) && k >= 1) || !(Number.isInteger(s) && s >= 1)) return null;
  const [n, c, h, w] = x.shape;
  const oh = Math.floor((h - k) / s) + 1, ow = Math.floor((w - k) / s) + 1;
  return oh >= 1 && ow >= 1 && n * c > 0 ? { planes: n * c, h, w, oh, ow } : null;
}

export const maxPool2d: Backend['maxPool2d'] = (x: Tensor, p: Pool2dParams) => {
  const g = poolShape(x, p);
  if (!g || !isF32(x)) return ref.maxPool2d(x, p);
  const ny = g.planes * g.oh * g.ow;
  const { kernels, offsets: [px, py], views: [vx, vy] } = scratch([x.size, ny]);
  vx.set(x.data);
  kernels.max_pool(0, px, 0, py, g.planes, g.h, g.w, p.kernelSize, p.stride, g.oh, g.ow);
  return new Tensor([x.shape[0], x.shape[1], g.oh, g.ow], copyOut(vy, vy.length));
};

export const maxPool2dGrad: Backend['maxPool2dGrad'] = (x: Tensor, dy: Tensor, p: Pool2dParams) => {
  const g = poolShape(x, p);
  if (!g || !isF32(x) || !isF32(dy) || !sameShape(dy.shape, [x.shape[0], x.shape[1], g.oh, g.ow])) return ref.maxPool2dGrad(x, dy, p);
  const { kernels, offsets: [px, pd, pdx], views: [vx, vd, vdx] } = scratch([x.size, dy.size, x.size]);
  vx.set(x.data);
  vd.set(dy.data);
  vdx.fill(0);
  kernels.max_pool(1, px, pd, pdx, g.planes, g.h, g.w, p.kernelSize, p.stride, g.oh, g.ow);
  return new Tensor(x.shape, copyOut(vdx, vdx.length));
};

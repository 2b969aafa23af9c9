// Elementwise primitives (relu, add/sub/mul, scalar compares) on the WebAssembly SIMD kernels, for f32 tensors
// in the shapes the layers produce (same-shape or tensor-scalar); anything else (broadcasts, f64) goes to the
// reference kernels, which also name every shape error.
import {
  type Backend,
  type BinaryOp,
  type CompareOp,
  type UnaryOp,
  Tensor,
} from '../../tensor/index.ts';
import { referenceBackend as ref } from '../cpu/index.ts';
import { copyOut, scratch } from './module.ts';

import { isF32, sameShape } from './f32.ts';
import { ceil4 } from './gemm.ts';

export const unary: Backend['unary'] = (op: UnaryOp, x: Tensor) => {
  if (op !== 'relu' || !isF32(x)) return ref.unary(op, x);
  const n = x.size;
  const {
    kernels,
    offsets: [px],
    views: [vx],
  } = scratch([ceil4(n)]);
  vx.set(x.data);
  kernels.relu(px, px, ceil4(n));
  return new Tensor(x.shape, copyOut(vx, n));
};

export const binary: Backend['binary'] = (op: BinaryOp, a: Tensor, b: Tensor) => {
  if ((op !== 'add' && op !== 'sub' && op !== 'mul') || !isF32(a) || !isF32(b))
    return ref.binary(op, a, b);
  const n = a.size;
  if (sameShape(a.shape, b.shape)) {
    const {
      kernels,
      offsets: [pa, pb],
      views: [va, vb],
    } = scratch([ceil4(n), ceil4(n)]);
    va.set(a.data);
    vb.set(b.data);
    kernels[op](pa, pb, pa, ceil4(n));
    return new Tensor(a.shape, copyOut(va, n));
  }
  if (b.size === 1 && a.rank >= b.rank) {
    const {
      kernels,
      offsets: [pa],
      views: [va],
    } = scratch([ceil4(n)]);
    va.set(a.data);
    kernels[`${op}_s`](pa, b.data[0], pa, ceil4(n));
    return new Tensor(a.shape, copyOut(va, n));
  }
  return ref.binary(op, a, b);
};

export const compare: Backend['compare'] = (op: CompareOp, a: Tensor, b: Tensor) => {
  if (op === 'eq' || b.size !== 1 || a.rank < b.rank || !isF32(a) || !isF32(b))
    return ref.compare(op, a, b);
  const n = a.size;
  const {
    kernels,
    offsets: [pa],
    views: [va],
  } = scratch([ceil4(n)]);
  va.set(a.data);
  kernels[`${op}_s`](pa, b.data[0], pa, ceil4(n));
  return new Tensor(a.shape, copyOut(va, n));
};

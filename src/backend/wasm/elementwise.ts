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
import { copyOut, scratch, type Kernels } from './module.ts';

import { isF32, sameShape } from './f32.ts';
import { ceil4 } from './gemm.ts';

/**
 * Copies a (and b, when given) into scratch arrays of ceil4(a.size) floats, runs `kernel` on their byte offsets
 * and that padded length (the kernels work in whole vectors), and returns a's array as a tensor of a's shape:
 * every kernel here writes its result in place over a.
 */
function inPlace(
  a: Tensor,
  b: Tensor | null,
  kernel: (kernels: Kernels, pa: number, pb: number, n4: number) => void,
): Tensor {
  const n = a.size;
  const {
    kernels,
    offsets: [pa, pb],
    views: [va, vb],
  } = scratch(b ? [ceil4(n), ceil4(n)] : [ceil4(n)]);
  va.set(a.data);
  if (b) vb.set(b.data);
  kernel(kernels, pa, pb, ceil4(n));
  return new Tensor(a.shape, copyOut(va, n));
}

/** a op s for a one-element s, on the scalar kernel `${op}_s`. */
const withScalar = (op: 'add' | 'sub' | 'mul' | Exclude<CompareOp, 'eq'>, a: Tensor, s: Tensor) =>
  inPlace(a, null, (kernels, pa, _, n4) => kernels[`${op}_s`](pa, s.data[0], pa, n4));

export const unary: Backend['unary'] = (op: UnaryOp, x: Tensor) => {
  if (op !== 'relu' || !isF32(x)) return ref.unary(op, x);
  return inPlace(x, null, (kernels, px, _, n4) => kernels.relu(px, px, n4));
};

export const binary: Backend['binary'] = (op: BinaryOp, a: Tensor, b: Tensor) => {
  if ((op !== 'add' && op !== 'sub' && op !== 'mul') || !isF32(a) || !isF32(b))
    return ref.binary(op, a, b);
  if (sameShape(a.shape, b.shape))
    return inPlace(a, b, (kernels, pa, pb, n4) => kernels[op](pa, pb, pa, n4));
  if (b.size === 1 && a.rank >= b.rank) return withScalar(op, a, b);
  return ref.binary(op, a, b);
};

export const compare: Backend['compare'] = (op: CompareOp, a: Tensor, b: Tensor) => {
  if (op === 'eq' || b.size !== 1 || a.rank < b.rank || !isF32(a) || !isF32(b))
    return ref.compare(op, a, b);
  return withScalar(op, a, b);
};

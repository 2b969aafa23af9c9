// The functional API over the op table: what models, losses and attacks call. Numbers are promoted to
// scalar tensors of the other operand's dtype; non-differentiable helpers (argmax, compare) live here too.
import { getBackend } from '../backend/index.ts';
import {
  type CompareOp,
  type Conv2dParams,
  type Pool2dParams,
  scalar,
  Tensor,
  type HashIndex,
} from '../tensor/index.ts';
import { apply } from './apply.ts';

type Operand = Tensor | number;
function pair(a: Operand, b: Operand): [Tensor, Tensor] {
  const like = a instanceof Tensor ? a : b instanceof Tensor ? b : null;
  const dtype = like?.dtype ?? 'f32';
  return [a instanceof Tensor ? a : scalar(a, dtype), b instanceof Tensor ? b : scalar(b, dtype)];
}

export const neg = (x: Tensor) => apply('neg', [x]);
export const abs = (x: Tensor) => apply('abs', [x]);
export const sign = (x: Tensor) => apply('sign', [x]);
export const exp = (x: Tensor) => apply('exp', [x]);
export const log = (x: Tensor) => apply('log', [x]);
export const tanh = (x: Tensor) => apply('tanh', [x]);
export const sqrt = (x: Tensor) => apply('sqrt', [x]);
export const square = (x: Tensor) => apply('square', [x]);
export const relu = (x: Tensor) => apply('relu', [x]);

export const add = (a: Operand, b: Operand) => apply('add', pair(a, b));
export const sub = (a: Operand, b: Operand) => apply('sub', pair(a, b));
export const mul = (a: Operand, b: Operand) => apply('mul', pair(a, b));
export const div = (a: Operand, b: Operand) => apply('div', pair(a, b));
export const maximum = (a: Operand, b: Operand) => apply('maximum', pair(a, b));
export const minimum = (a: Operand, b: Operand) => apply('minimum', pair(a, b));

export const clamp = (x: Tensor, lo: number, hi: number) => apply('clamp', [x], { lo, hi });
export const sum = (x: Tensor, axes?: number[], keepDims = false) =>
  apply('sum', [x], { axes, keepDims });
export const mean = (x: Tensor, axes?: number[], keepDims = false) =>
  apply('mean', [x], { axes, keepDims });
export const max = (x: Tensor, axis: number, keepDims = false) =>
  apply('max', [x], { axis, keepDims });
export const broadcastTo = (x: Tensor, shape: number[]) => apply('broadcastTo', [x], { shape });
export const reshape = (x: Tensor, shape: number[]) => apply('reshape', [x], { shape });
/** [N, ...] → [N, rest]. */
// The feature count comes from the shape, not size / N, so an empty batch keeps its width ([0, C·H·W]).
export const flatten = (x: Tensor) =>
  reshape(x, [x.shape[0], x.shape.slice(1).reduce((a, b) => a * b, 1)]);

export const matmul = (a: Tensor, b: Tensor, transA = false, transB = false) =>
  apply('matmul', [a, b], { transA, transB });
export const biasAdd = (x: Tensor, bias: Tensor) => apply('biasAdd', [x, bias]);
export const conv2d = (x: Tensor, w: Tensor, p: Conv2dParams) => apply('conv2d', [x, w], p);
/** conv2d's adjoint in its input: y [N, outC, oh, ow] → [N, ...inShape] (inShape = [inC, ih, iw]). */
export const conv2dTranspose = (
  y: Tensor,
  w: Tensor,
  p: Conv2dParams,
  inShape: readonly number[],
) => apply('conv2dTranspose', [y, w], { ...p, inShape: [y.shape[0], ...inShape] });
export const maxPool2d = (x: Tensor, p: Pool2dParams) => apply('maxPool2d', [x], p);
export const avgPool2d = (x: Tensor, p: Pool2dParams) => apply('avgPool2d', [x], p);
export const softmax = (x: Tensor) => apply('softmax', [x]);
export const logSoftmax = (x: Tensor) => apply('logSoftmax', [x]);
/** Per-example cross-entropy [N] of logits [N,K] against integer labels [N] (a tensor of class indices). */
export const crossEntropy = (logits: Tensor, labels: Tensor) =>
  apply('crossEntropy', [logits, labels]);

/** HashedNets virtual weight of `shape` (rows·cols entries) from the real weights w[K] and the layer's table. */
export const hashGather = (w: Tensor, table: HashIndex, shape: number[]) =>
  apply('hashGather', [w], { table, shape });

/** Argmax along an axis (ties → lowest index); not differentiable. */
export const argmax = (x: Tensor, axis: number) => getBackend().argmax(x, axis);
/** Elementwise comparison giving 1/0; not differentiable. */
export const compare = (op: CompareOp, a: Operand, b: Operand) =>
  getBackend().compare(op, ...pair(a, b));

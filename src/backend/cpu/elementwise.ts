// Reference elementwise kernels: unary math, broadcasting binary arithmetic and comparisons, clamp.
import {
  type BinaryOp,
  type CompareOp,
  type UnaryOp,
  alloc,
  sameShape,
  Tensor,
  type DType,
} from '../../tensor/index.ts';
import { broadcastIndex, broadcastShape } from './broadcast.ts';

const UNARY: Record<UnaryOp, (x: number) => number> = {
  neg: (x) => -x,
  abs: Math.abs,
  // NOTE: sign(0) = 0 (and sign(-0) = 0): the subgradient of |x| chosen at the kink.
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0),
  exp: Math.exp,
  log: Math.log,
  tanh: Math.tanh,
  sqrt: Math.sqrt,
  square: (x) => x * x,
  relu: (x) => (x > 0 ? x : 0),
};

const BINARY: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  maximum: (a, b) => (a >= b ? a : b),
  minimum: (a, b) => (a <= b ? a : b),
};

const COMPARE: Record<CompareOp, (a: number, b: number) => number> = {
  gt: (a, b) => (a > b ? 1 : 0),
  ge: (a, b) => (a >= b ? 1 : 0),
  lt: (a, b) => (a < b ? 1 : 0),
  le: (a, b) => (a <= b ? 1 : 0),
  eq: (a, b) => (a === b ? 1 : 0),
};

/** f64 when any operand is f64. */
export function resultDType(...ts: Tensor[]): DType {
  return ts.some((t) => t.dtype === 'f64') ? 'f64' : 'f32';
}

export function unary(op: UnaryOp, x: Tensor): Tensor {
  const f = UNARY[op];
  const out = alloc(x.dtype, x.size);
  for (let i = 0; i < x.size; i++) out[i] = f(x.data[i]);
  return new Tensor(x.shape, out);
}

function zip(f: (a: number, b: number) => number, a: Tensor, b: Tensor): Tensor {
  const dtype = resultDType(a, b);
  if (sameShape(a.shape, b.shape)) {
    const out = alloc(dtype, a.size);
    for (let i = 0; i < a.size; i++) out[i] = f(a.data[i], b.data[i]);
    return new Tensor(a.shape, out);
  }
  if (b.size === 1 && a.rank >= b.rank) {
    // Tensor-scalar: the common case in losses and attacks, worth skipping the index tables.
    const out = alloc(dtype, a.size);
    const bv = b.data[0];
    for (let i = 0; i < a.size; i++) out[i] = f(a.data[i], bv);
    return new Tensor(a.shape, out);
  }
  const shape = broadcastShape(a.shape, b.shape);
  const ia = broadcastIndex(a.shape, shape);
  const ib = broadcastIndex(b.shape, shape);
  const out = alloc(dtype, ia.length);
  for (let i = 0; i < out.length; i++) out[i] = f(a.data[ia[i]], b.data[ib[i]]);
  return new Tensor(shape, out);
}

export function binary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  return zip(BINARY[op], a, b);
}

export function compare(op: CompareOp, a: Tensor, b: Tensor): Tensor {
  return zip(COMPARE[op], a, b);
}

export function clamp(x: Tensor, lo: number, hi: number): Tensor {
  if (!(lo <= hi)) throw new Error(`clamp: lower bound ${lo} exceeds upper bound ${hi}`);
  const out = alloc(x.dtype, x.size);
  for (let i = 0; i < x.size; i++) {
    const v = x.data[i];
    out[i] = v < lo ? lo : v > hi ? hi : v;
  }
  return new Tensor(x.shape, out);
}

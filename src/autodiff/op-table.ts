// The closed table of differentiable ops: forward = one backend primitive, backward = a rule composed from
// primitives. A gradient check per entry lives in test/autodiff/grad-check.test.ts (it fails on a missing one).
import {
  type Backend,
  type BinaryOp,
  type Conv2dParams,
  type Pool2dParams,
  type UnaryOp,
  sameShape,
  scalar,
  Tensor,
  type HashIndex,
} from '../tensor/index.ts';
import type { BackwardArgs, OpDef } from './op-def.ts';

/** Sums a broadcast gradient back down to `shape` (the inverse of NumPy broadcasting). */
export function sumTo(b: Backend, g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++)
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  return b.sum(g, axes, true).reshape(shape);
}

const s = (v: number, like: Tensor) => scalar(v, like.dtype);

function unaryOp(name: UnaryOp, grad: (a: BackwardArgs<void>) => Tensor): OpDef<void> {
  return { name, forward: (b, [x]) => b.unary(name, x), backward: (a) => [grad(a)] };
}

function binaryOp(name: BinaryOp, grad: (a: BackwardArgs<void>) => [Tensor, Tensor]): OpDef<void> {
  return {
    name,
    forward: (b, [x, y]) => b.binary(name, x, y),
    backward: (a) => {
      const [gx, gy] = grad(a);
      return [sumTo(a.b, gx, a.inputs[0].shape), sumTo(a.b, gy, a.inputs[1].shape)];
    },
  };
}

const unaryOps = [
  unaryOp('neg', ({ b, dy }) => b.unary('neg', dy)),
  // NOTE: d|x|/dx at 0 is taken as sign(0) = 0.
  unaryOp('abs', ({ b, dy, inputs: [x] }) => b.binary('mul', dy, b.unary('sign', x))),
  // sign is piecewise constant: zero gradient everywhere (BPDA wrappers replace it where needed).
  unaryOp('sign', ({ b, dy }) => b.binary('mul', dy, s(0, dy))),
  unaryOp('exp', ({ b, dy, output }) => b.binary('mul', dy, output)),
  unaryOp('log', ({ b, dy, inputs: [x] }) => b.binary('div', dy, x)),
  unaryOp('tanh', ({ b, dy, output }) =>
    b.binary('mul', dy, b.binary('sub', s(1, output), b.unary('square', output))),
  ),
  unaryOp('sqrt', ({ b, dy, output }) =>
    b.binary('div', dy, b.binary('mul', s(2, output), output)),
  ),
  unaryOp('square', ({ b, dy, inputs: [x] }) => b.binary('mul', dy, b.binary('mul', s(2, x), x))),
  // NOTE: relu'(0) = 0 (gradient flows only where x > 0), as in PyTorch and TF.
  unaryOp('relu', ({ b, dy, inputs: [x] }) => b.binary('mul', dy, b.compare('gt', x, s(0, x)))),
];

const binaryOps = [
  binaryOp('add', ({ dy }) => [dy, dy]),
  binaryOp('sub', ({ b, dy }) => [dy, b.unary('neg', dy)]),
  binaryOp('mul', ({ b, dy, inputs: [x, y] }) => [b.binary('mul', dy, y), b.binary('mul', dy, x)]),
  binaryOp('div', ({ b, dy, inputs: [x, y] }) => [
    b.binary('div', dy, y),
    b.unary('neg', b.binary('div', b.binary('mul', dy, x), b.unary('square', y))),
  ]),
  // NOTE: on ties maximum/minimum send the whole gradient to the first operand (matching the forward's a>=b).
  binaryOp('maximum', ({ b, dy, inputs: [x, y] }) => [
    b.binary('mul', dy, b.compare('ge', x, y)),
    b.binary('mul', dy, b.compare('lt', x, y)),
  ]),
  binaryOp('minimum', ({ b, dy, inputs: [x, y] }) => [
    b.binary('mul', dy, b.compare('le', x, y)),
    b.binary('mul', dy, b.compare('gt', x, y)),
  ]),
];

type ClampAttrs = { lo: number; hi: number };
type SumAttrs = { axes?: number[]; keepDims: boolean };
type AxisAttrs = { axis: number; keepDims: boolean };

/** Re-inserts reduced axes (size 1) so a reduced gradient broadcasts against the input. */
function keepDimsShape(inShape: readonly number[], axes: number[] | undefined): number[] {
  const rank = inShape.length;
  const ax = (axes ?? inShape.map((_, i) => i)).map((a) => (a < 0 ? a + rank : a));
  return inShape.map((d, i) => (ax.includes(i) ? 1 : d));
}

const otherOps: OpDef[] = [
  {
    name: 'clamp',
    forward: (b, [x], { lo, hi }: ClampAttrs) => b.clamp(x, lo, hi),
    // NOTE: the gradient passes where lo ≤ x ≤ hi, bounds included (PyTorch's choice), and is 0 outside.
    backward: ({ b, dy, inputs: [x], attrs: { lo, hi } }: BackwardArgs<ClampAttrs>) => [
      b.binary(
        'mul',
        dy,
        b.binary('mul', b.compare('ge', x, s(lo, x)), b.compare('le', x, s(hi, x))),
      ),
    ],
  },
  {
    name: 'sum',
    forward: (b, [x], { axes, keepDims }: SumAttrs) => b.sum(x, axes, keepDims),
    backward: ({ b, dy, inputs: [x], attrs: { axes } }: BackwardArgs<SumAttrs>) => [
      b.broadcastTo(dy.reshape(keepDimsShape(x.shape, axes)), x.shape),
    ],
  },
  {
    name: 'mean',
    forward: (b, [x], { axes, keepDims }: SumAttrs) => {
      const total = b.sum(x, axes, keepDims);
      return b.binary('mul', total, s(total.size / x.size, x));
    },
    backward: ({ b, dy, inputs: [x], output, attrs: { axes } }: BackwardArgs<SumAttrs>) => [
      b.broadcastTo(
        b.binary('mul', dy, s(output.size / x.size, x)).reshape(keepDimsShape(x.shape, axes)),
        x.shape,
      ),
    ],
  },
  {
    name: 'max',
    forward: (b, [x], { axis, keepDims }: AxisAttrs) => b.max(x, axis, keepDims),
    // NOTE: on ties the gradient goes to the first maximum only (argmax's lowest index), not split.
    backward: ({ b, dy, inputs: [x], attrs: { axis } }: BackwardArgs<AxisAttrs>) => {
      const ax = axis < 0 ? axis + x.rank : axis;
      const moved = firstMaxMask(b, x, ax);
      return [
        b.binary('mul', moved, b.broadcastTo(dy.reshape(keepDimsShape(x.shape, [ax])), x.shape)),
      ];
    },
  },
  {
    name: 'broadcastTo',
    forward: (b, [x], { shape }: { shape: number[] }) => b.broadcastTo(x, shape),
    backward: ({ b, dy, inputs: [x] }) => [sumTo(b, dy, x.shape)],
  },
  {
    name: 'reshape',
    forward: (_b, [x], { shape }: { shape: number[] }) => x.reshape(shape),
    backward: ({ dy, inputs: [x] }) => [dy.reshape(x.shape)],
  },
  {
    name: 'matmul',
    forward: (b, [x, y], { transA, transB }: { transA: boolean; transB: boolean }) =>
      b.matmul(x, y, transA, transB),
    backward: ({
      b,
      dy,
      inputs: [x, y],
      attrs: { transA, transB },
    }: BackwardArgs<{ transA: boolean; transB: boolean }>) => [
      // C = op(A)·op(B): dA = dC·op(B)ᵀ (transposed back if A was), dB likewise.
      transA ? b.matmul(y, dy, transB, true) : b.matmul(dy, y, false, !transB),
      transB ? b.matmul(dy, x, true, transA) : b.matmul(x, dy, !transA, false),
    ],
  },
  {
    name: 'biasAdd',
    forward: (b, [x, bias]) => b.biasAdd(x, bias),
    backward: ({ b, dy }) => [
      dy,
      b.sum(
        dy,
        dy.shape.map((_, i) => i).filter((i) => i !== 1),
      ),
    ],
  },
  {
    name: 'conv2d',
    forward: (b, [x, w], p: Conv2dParams) => b.conv2d(x, w, p),
    backward: ({ b, dy, inputs: [x, w], attrs }: BackwardArgs<Conv2dParams>) => [
      b.conv2dGradInput(dy, w, x.shape, attrs),
      b.conv2dGradWeight(x, dy, w.shape, attrs),
    ],
  },
  {
    // The adjoint of conv2d in its input: x̄ = convᵀ(y, w) of shape `inShape` (bound back-substitution
    // carries coefficients backward through convolutions with it, differentiably). Linear in y: ȳ = conv2d(g, w);
    // in w: the weight gradient of conv2d(g, ·) against y.
    name: 'conv2dTranspose',
    forward: (b, [y, w], p: Conv2dParams & { inShape: readonly number[] }) =>
      b.conv2dGradInput(y, w, p.inShape, p),
    backward: ({
      b,
      dy,
      inputs: [, w],
      attrs,
      inputs,
    }: BackwardArgs<Conv2dParams & { inShape: readonly number[] }>) => [
      b.conv2d(dy, w, attrs),
      b.conv2dGradWeight(dy, inputs[0], w.shape, attrs),
    ],
  },
  {
    name: 'maxPool2d',
    forward: (b, [x], p: Pool2dParams) => b.maxPool2d(x, p),
    backward: ({ b, dy, inputs: [x], attrs }: BackwardArgs<Pool2dParams>) => [
      b.maxPool2dGradInput(x, dy, attrs),
    ],
  },
  {
    name: 'avgPool2d',
    forward: (b, [x], p: Pool2dParams) => b.avgPool2d(x, p),
    backward: ({ b, dy, inputs: [x], attrs }: BackwardArgs<Pool2dParams>) => [
      b.avgPool2dGradInput(dy, x.shape, attrs),
    ],
  },
  {
    name: 'softmax',
    forward: (b, [x]) => b.softmax(x),
    // dx = y ⊙ (dy − Σ_k dy_k y_k)
    backward: ({ b, dy, output: y }) => [
      b.binary('mul', y, b.binary('sub', dy, b.sum(b.binary('mul', dy, y), [-1], true))),
    ],
  },
  {
    name: 'logSoftmax',
    forward: (b, [x]) => b.logSoftmax(x),
    // dx = dy − softmax(x) · Σ_k dy_k
    backward: ({ b, dy, output }) => [
      b.binary('sub', dy, b.binary('mul', b.unary('exp', output), b.sum(dy, [-1], true))),
    ],
  },
  {
    name: 'hashGather',
    // The virtual weight of a HashedNets layer, reshaped to the layer's weight shape (dense or conv).
    forward: (b, [w], { table, shape }: { table: HashIndex; shape: number[] }) =>
      b.hashGather(w, table).reshape(shape),
    // dL/dw[k] = Σ_{bucket(e)=k} sign(e) · dL/dV[e]: the scatter-add of docs/design.md §1.1.
    backward: ({
      b,
      dy,
      attrs: { table },
    }: BackwardArgs<{ table: HashIndex; shape: number[] }>) => [b.hashScatter(dy, table)],
  },
  {
    name: 'crossEntropy',
    // Labels are an input without gradient, so the tape keeps them alongside the logits.
    forward: (b, [z, labels]) => b.crossEntropy(z, labels),
    // d loss_i / d z_i = softmax(z_i) − onehot(y_i), scaled per row by dy_i.
    backward: ({ b, dy, inputs: [z, labels] }) => [
      b.binary(
        'mul',
        b.binary('sub', b.softmax(z), b.oneHot(labels, z.shape[1])),
        dy.reshape([dy.size, 1]),
      ),
      null,
    ],
  },
];

/** 1 at the first maximum along `axis`, 0 elsewhere. */
function firstMaxMask(b: Backend, x: Tensor, axis: number): Tensor {
  const idx = b.argmax(x, axis); // shape without axis
  const len = x.shape[axis];
  // Compare each position's index along the axis with the argmax: build the position grid by broadcasting.
  const posShape = x.shape.map((d, i) => (i === axis ? d : 1));
  const pos = new Tensor(
    posShape,
    x.dtype === 'f64' ? new Float64Array(len) : new Float32Array(len),
  );
  for (let i = 0; i < len; i++) pos.data[i] = i;
  return b.compare('eq', pos, idx.reshape(keepDimsShape(x.shape, [axis])));
}

/** Every differentiable op by name. */
export const opTable: Record<string, OpDef> = Object.fromEntries(
  [...unaryOps, ...binaryOps, ...otherOps].map((op) => [op.name, op]),
);

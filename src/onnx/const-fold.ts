// Constant folding at import time: nodes whose inputs are all known (initializers, Constant, the Shape of the data)
// are evaluated here, so exporter idioms such as Shape → Gather → Unsqueeze → Concat → Reshape (torch's
// x.view(x.size(0), -1)) or a Transpose of a weight become plain constants before the layer mapping sees them.
import { MAX_TENSOR_ELEMENTS } from './decode-tensor.ts';
import { DataType, elementCount } from './onnx-model.ts';
import { constOfTensor, type Const, type NodeContext } from './node-context.ts';

/** Ops this file evaluates when every input is constant. */
export const FOLDABLE_OPS = [
  'Constant',
  'ConstantOfShape',
  'Identity',
  'Cast',
  'Shape',
  'Gather',
  'Unsqueeze',
  'Squeeze',
  'Concat',
  'Reshape',
  'Transpose',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Sqrt',
  'Neg',
] as const;

const INT_TYPES: number[] = [2, 3, 4, 5, DataType.INT32, DataType.INT64, 12, 13];
const FLOAT_TYPES: number[] = [
  DataType.FLOAT,
  DataType.DOUBLE,
  DataType.FLOAT16,
  DataType.BFLOAT16,
];

const strides = (dims: readonly number[]) => {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) ((s[i] = acc), (acc *= dims[i]));
  return s;
};

/** A zeroed constant of `dims`, refused before allocation when over the per-tensor limit (dims may be hostile). */
function make(ctx: NodeContext, dims: number[], int: boolean): Const {
  const n = elementCount(dims);
  if (!(n <= MAX_TENSOR_ELEMENTS) || dims.some((d) => !Number.isInteger(d) || d < 0))
    ctx.fail(`folding would make a constant of shape [${dims.join(', ')}] (at most 2^28 elements)`);
  return { dims, values: new Float64Array(n), int };
}

function axisOf(ctx: NodeContext, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!(a >= 0 && a < rank)) ctx.fail(`axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** The outputs of a node whose inputs are all constant; refuses ops not in FOLDABLE_OPS. */
export function foldNode(ctx: NodeContext): Const[] {
  const op = ctx.node.opType;
  const input = (i: number) => ctx.constInput(i, `input ${i}`);
  switch (op) {
    case 'Constant':
      return [constantValue(ctx)];
    case 'Identity':
      return [input(0)];
    case 'Cast': {
      const to = ctx.int('to', 0);
      const x = input(0);
      if (FLOAT_TYPES.includes(to)) return [{ ...x, int: false }];
      if (INT_TYPES.includes(to)) return [{ ...x, values: x.values.map(Math.trunc), int: true }];
      return ctx.fail(`Cast to data type ${to} is not supported`);
    }
    case 'Shape':
      return [shapeOf(ctx, input(0).dims)];
    case 'ConstantOfShape': {
      const dims = ctx.intsInput(0, 'shape');
      const t = ctx.tensor('value');
      const v = t ? constOfTensor(t, ctx.where) : { values: Float64Array.of(0), int: false };
      const out = make(ctx, dims, v.int);
      out.values.fill(v.values[0]);
      return [out];
    }
    case 'Gather':
      return [gather(ctx, input(0), input(1))];
    case 'Unsqueeze':
    case 'Squeeze': {
      const x = input(0);
      const axes =
        ctx.opset >= 13
          ? ctx.hasInput(1)
            ? ctx.intsInput(1, 'axes')
            : null
          : ctx.ints('axes', null);
      const dims =
        op === 'Unsqueeze' ? unsqueezeDims(ctx, x.dims, axes) : squeezeDims(ctx, x.dims, axes);
      return [{ ...x, dims }];
    }
    case 'Concat':
      return [
        concat(
          ctx,
          ctx.node.input.map((_, i) => input(i)),
        ),
      ];
    case 'Reshape': {
      const x = input(0);
      return [
        {
          ...x,
          dims: reshapeDims(ctx, x.dims, ctx.intsInput(1, 'shape'), ctx.int('allowzero', 0) === 1),
        },
      ];
    }
    case 'Transpose':
      return [transpose(ctx, input(0))];
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div':
      return [arithmetic(ctx, op, input(0), input(1))];
    case 'Sqrt':
    case 'Neg': {
      const x = noBatch(ctx, input(0));
      return [{ ...x, values: x.values.map(op === 'Sqrt' ? Math.sqrt : (v) => -v) }];
    }
    default:
      return ctx.fail(
        `all inputs are constants, but ${op} cannot be folded (foldable: ${FOLDABLE_OPS.join(', ')})`,
      );
  }
}

/** Shape's output for per-value dims: an INT64 vector, with the start/end attributes of opset 15. */
export function shapeOf(ctx: NodeContext, dims: readonly number[]): Const {
  const r = dims.length;
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  const start = clamp(ctx.int('start', 0));
  const end = clamp(ctx.int('end', r));
  const out = dims.slice(start, Math.max(start, end));
  return { dims: [out.length], values: Float64Array.from(out), int: true };
}

function constantValue(ctx: NodeContext): Const {
  const t = ctx.tensor('value');
  if (t) return constOfTensor(t, ctx.where);
  if (ctx.hasAttr('value_float'))
    return { dims: [], values: Float64Array.of(ctx.float('value_float', 0)), int: false };
  if (ctx.hasAttr('value_int'))
    return { dims: [], values: Float64Array.of(ctx.int('value_int', 0)), int: true };
  const fs = ctx.floats('value_floats');
  if (fs) return { dims: [fs.length], values: Float64Array.from(fs), int: false };
  const is = ctx.ints('value_ints', null);
  if (is) return { dims: [is.length], values: Float64Array.from(is), int: true };
  return ctx.fail(
    'Constant without a value, value_float(s) or value_int(s) attribute is not supported',
  );
}

function noBatch(ctx: NodeContext, c: Const): Const {
  if (c.values.some(Number.isNaN))
    ctx.fail('arithmetic on a value that depends on the batch size is not supported');
  return c;
}

function gather(ctx: NodeContext, data: Const, indices: Const): Const {
  const a = axisOf(ctx, ctx.int('axis', 0), data.dims.length);
  const n = data.dims[a];
  const inner = elementCount(data.dims.slice(a + 1));
  const outer = elementCount(data.dims.slice(0, a));
  const idx = [...noBatch(ctx, indices).values].map((i) => {
    const j = i < 0 ? i + n : i;
    if (!(Number.isInteger(j) && j >= 0 && j < n))
      ctx.fail(`index ${i} is out of range for size ${n}`);
    return j;
  });
  const dims = [...data.dims.slice(0, a), ...indices.dims, ...data.dims.slice(a + 1)];
  const out = make(ctx, dims, data.int);
  let o = 0;
  for (let b = 0; b < outer; b++)
    for (const j of idx) {
      const from = (b * n + j) * inner;
      out.values.set(data.values.subarray(from, from + inner), o);
      o += inner;
    }
  return out;
}

function unsqueezeDims(ctx: NodeContext, dims: readonly number[], axes: number[] | null): number[] {
  if (!axes) return ctx.fail('Unsqueeze needs axes');
  const rank = dims.length + axes.length;
  const at = new Set(axes.map((a) => axisOf(ctx, a, rank)));
  if (at.size !== axes.length) ctx.fail(`repeated axes [${axes.join(', ')}]`);
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(at.has(i) ? 1 : dims[j++]);
  return out;
}

function squeezeDims(ctx: NodeContext, dims: readonly number[], axes: number[] | null): number[] {
  const at = axes ? new Set(axes.map((a) => axisOf(ctx, a, dims.length))) : null;
  if (at)
    for (const a of at) if (dims[a] !== 1) ctx.fail(`cannot squeeze axis ${a} of size ${dims[a]}`);
  return dims.filter((d, i) => (at ? !at.has(i) : d !== 1));
}

/**
 * Resolves a Reshape target against input dims: 0 copies the input's dimension (unless allowzero), one -1 is
 * inferred from the element count. Shared with the data Reshape (ops-shape.ts), where dims[0] is the batch.
 */
export function reshapeDims(
  ctx: NodeContext,
  dims: readonly number[],
  target: readonly number[],
  allowZero: boolean,
): number[] {
  const out = target.map((t, i) => {
    if (t === 0 && !allowZero) {
      if (i >= dims.length) ctx.fail(`shape entry ${i} is 0 but the input has rank ${dims.length}`);
      return dims[i];
    }
    if (!(Number.isInteger(t) && t >= -1)) ctx.fail(`shape entry ${t} is invalid`);
    return t;
  });
  const total = elementCount(dims);
  const infer = out.filter((d) => d === -1).length;
  if (infer > 1) ctx.fail(`shape [${target.join(', ')}] has more than one -1`);
  const known = elementCount(out.filter((d) => d !== -1));
  if (infer === 1) {
    if (known === 0 || total % known !== 0)
      ctx.fail(`cannot infer -1 in [${target.join(', ')}] from ${total} elements`);
    out[out.indexOf(-1)] = total / known;
  } else if (known !== total)
    ctx.fail(
      `shape [${target.join(', ')}] does not hold the ${total} elements of [${dims.join(', ')}]`,
    );
  return out;
}

function concat(ctx: NodeContext, parts: Const[]): Const {
  const rank = parts[0].dims.length;
  const a = axisOf(ctx, ctx.int('axis', 0), rank);
  for (const p of parts)
    if (p.dims.length !== rank || p.dims.some((d, i) => i !== a && d !== parts[0].dims[i]))
      ctx.fail('inputs of different shapes');
  const dims = [...parts[0].dims];
  dims[a] = parts.reduce((s, p) => s + p.dims[a], 0);
  const outer = elementCount(dims.slice(0, a));
  const out = make(
    ctx,
    dims,
    parts.every((p) => p.int),
  );
  let o = 0;
  for (let b = 0; b < outer; b++)
    for (const p of parts) {
      const block = elementCount(p.dims.slice(a));
      out.values.set(p.values.subarray(b * block, (b + 1) * block), o);
      o += block;
    }
  return out;
}

function transpose(ctx: NodeContext, x: Const): Const {
  const r = x.dims.length;
  const perm = ctx.ints('perm', null) ?? [...Array(r).keys()].reverse();
  if (perm.length !== r || new Set(perm).size !== r || perm.some((p) => !(p >= 0 && p < r)))
    ctx.fail(`perm [${perm.join(', ')}] is not a permutation of ${r} axes`);
  const dims = perm.map((p) => x.dims[p]);
  const inStride = strides(x.dims);
  const out = new Float64Array(x.values.length);
  const idx = new Array<number>(r).fill(0);
  for (let o = 0; o < out.length; o++) {
    let from = 0;
    for (let i = 0; i < r; i++) from += idx[i] * inStride[perm[i]];
    out[o] = x.values[from];
    for (let i = r - 1; i >= 0 && ++idx[i] === dims[i]; i--) idx[i] = 0;
  }
  return { dims, values: out, int: x.int };
}

/** Numpy-broadcast elementwise arithmetic; integer Div truncates as ONNX does. */
function arithmetic(ctx: NodeContext, op: string, a: Const, b: Const): Const {
  noBatch(ctx, a);
  noBatch(ctx, b);
  const r = Math.max(a.dims.length, b.dims.length);
  const pa = [...Array(r - a.dims.length).fill(1), ...a.dims];
  const pb = [...Array(r - b.dims.length).fill(1), ...b.dims];
  const dims = pa.map((d, i) => {
    if (d !== pb[i] && d !== 1 && pb[i] !== 1)
      ctx.fail(`shapes [${a.dims}] and [${b.dims}] do not broadcast`);
    return Math.max(d, pb[i]);
  });
  const int = a.int && b.int;
  const out = make(ctx, dims, int);
  const sa = strides(pa).map((s, i) => (pa[i] === 1 ? 0 : s));
  const sb = strides(pb).map((s, i) => (pb[i] === 1 ? 0 : s));
  const idx = new Array<number>(r).fill(0);
  for (let o = 0; o < out.values.length; o++) {
    let ia = 0,
      ib = 0;
    for (let i = 0; i < r; i++) ((ia += idx[i] * sa[i]), (ib += idx[i] * sb[i]));
    const x = a.values[ia],
      y = b.values[ib];
    out.values[o] =
      op === 'Add'
        ? x + y
        : op === 'Sub'
          ? x - y
          : op === 'Mul'
            ? x * y
            : int
              ? Math.trunc(x / y)
              : x / y;
    for (let i = r - 1; i >= 0 && ++idx[i] === dims[i]; i--) idx[i] = 0;
  }
  return out;
}

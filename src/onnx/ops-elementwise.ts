// Elementwise op handlers: Add/Sub/Mul/Div with a scalar or per-channel constant (an affine map, folded where
// possible), and the activations Relu, LeakyRelu, Sigmoid, Tanh and Clip.
import type { LayerList } from './layer-list.ts';
import type { Const, NodeContext } from './node-context.ts';

/** FLT_MAX: exporters write ±FLT_MAX (or ±inf) for an open Clip bound. */
const FLT_MAX = 3.4028234663852886e38;

/**
 * A constant operand as a per-channel vector (length 1 = scalar): it must broadcast against [N, ...shape]
 * without changing the output shape, and vary at most along axis 1 (channels of [N,C,H,W], features of [N,D]).
 */
export function channelConstant(ctx: NodeContext, b: LayerList, c: Const): Float64Array {
  if (c.values.some(Number.isNaN)) ctx.fail('the constant depends on the batch size');
  const full = [0, ...b.shape]; // 0: the batch axis (its size is never matched)
  if (c.dims.length > full.length)
    ctx.fail(
      `constant of shape [${c.dims.join(', ')}] has more axes than the data [N, ${b.shape.join(', ')}]`,
    );
  const padded = [...new Array<number>(full.length - c.dims.length).fill(1), ...c.dims];
  const varying: number[] = [];
  padded.forEach((d, i) => {
    if (d === 1) return;
    if (i === 0 || d !== full[i])
      ctx.fail(
        `constant of shape [${c.dims.join(', ')}] does not broadcast to [N, ${b.shape.join(', ')}] without changing its shape`,
      );
    varying.push(i);
  });
  if (varying.length === 0) return Float64Array.of(c.values[0]);
  if (varying.length > 1 || varying[0] !== 1)
    ctx.fail(
      `constant of shape [${c.dims.join(', ')}] varies along more than the channel axis (only scalar or per-channel constants)`,
    );
  if (b.isView)
    ctx.fail(
      `a per-channel constant after a relabelled layout [N, ${b.shape.join(', ')}] is not supported`,
    );
  return c.values.slice();
}

/** Add, Sub, Mul or Div of the data and a constant, as y = x·scale + shift. */
export function arithmetic(ctx: NodeContext, b: LayerList, dataIndex: number): void {
  const op = ctx.node.opType;
  const c = channelConstant(ctx, b, ctx.constInput(1 - dataIndex, 'constant operand'));
  const n = c.length;
  const ones = new Float64Array(n).fill(1);
  const zeros = new Float64Array(n);
  const dataFirst = dataIndex === 0;
  let scale: Float64Array = ones,
    shift: Float64Array = zeros;
  if (op === 'Add') shift = c;
  else if (op === 'Mul') scale = c;
  else if (op === 'Sub')
    [scale, shift] = dataFirst ? [ones, c.map((v) => -v)] : [ones.map((v) => -v), c];
  else {
    if (!dataFirst) ctx.fail('constant / data is not an affine map');
    if (c.some((v) => v === 0)) ctx.fail('division by a zero constant');
    scale = c.map((v) => 1 / v);
  }
  b.affine(
    scale,
    shift,
    ctx.where,
    `${op} of a ${n === 1 ? 'scalar' : 'per-channel'} constant`,
    op === 'Add' ? ctx.inputName(1 - dataIndex) : '',
  );
}

export function relu(ctx: NodeContext, b: LayerList): void {
  b.spec({ type: 'relu' });
}

export function leakyRelu(ctx: NodeContext, b: LayerList): void {
  const alpha = ctx.float('alpha', 0.01);
  if (!(alpha >= 0 && alpha < 1))
    ctx.fail(`alpha ${alpha} is outside [0, 1) (hashguard's leaky-relu is max(x, αx))`);
  b.spec({ type: 'leaky-relu', alpha });
}

export function sigmoid(ctx: NodeContext, b: LayerList): void {
  b.spec({ type: 'sigmoid' });
}

export function tanh(ctx: NodeContext, b: LayerList): void {
  b.spec({ type: 'tanh' });
}

/** Clip: bounds from attributes before opset 11, from optional constant inputs from 11 on. */
export function clip(ctx: NodeContext, b: LayerList, dataIndex: number): void {
  if (dataIndex !== 0) ctx.fail('the data must be the first input');
  const open = (v: number | null) =>
    v === null || !Number.isFinite(v) || Math.abs(v) >= FLT_MAX ? null : v;
  const min =
    ctx.opset < 11 ? open(ctx.float('min', -FLT_MAX)) : open(ctx.optionalScalar(1, 'min'));
  const max = ctx.opset < 11 ? open(ctx.float('max', FLT_MAX)) : open(ctx.optionalScalar(2, 'max'));
  if (min !== null && max !== null && min > max) ctx.fail(`min ${min} > max ${max}`);
  if (min === null && max === null) {
    b.notes.push(`${ctx.where}: Clip without bounds is the identity, removed`);
    return;
  }
  if (min === 0 && max === null) {
    b.notes.push(`${ctx.where}: Clip(min 0) became relu`);
    b.spec({ type: 'relu' });
    return;
  }
  b.spec({ type: 'clip', min, max });
}

// Op handlers that pool or re-describe the data without weights: MaxPool/AveragePool, GlobalAveragePool/
// GlobalMaxPool, Flatten, Reshape to [N, D], Transpose and Squeeze/Unsqueeze that move no data, Dropout and
// Identity (removed), and a trailing Softmax/LogSoftmax (dropped, recorded).
import type { LayerList } from './layer-list.ts';
import type { NodeContext } from './node-context.ts';
import { reshapeDims } from './const-fold.ts';
import { squareWindow, symmetricPadding, windowOut } from './ops-linear.ts';

function image(ctx: NodeContext, b: LayerList): [number, number, number] {
  if (b.shape.length !== 3 || b.isView)
    ctx.fail(`expects an [N, C, H, W] input, got [N, ${b.shape.join(', ')}]`);
  return b.shape as [number, number, number];
}

export function pool(ctx: NodeContext, b: LayerList): void {
  const [c, h, w] = image(ctx, b);
  const max = ctx.node.opType === 'MaxPool';
  const kernel = ctx.ints('kernel_shape', null) ?? ctx.fail('kernel_shape is missing');
  const { k, s } = squareWindow(ctx, kernel);
  if (symmetricPadding(ctx, [h, w], k, s) !== 0)
    ctx.fail('padded pooling is not supported (hashguard pools without padding)');
  if (ctx.int('ceil_mode', 0) === 1 && ((h - k) % s !== 0 || (w - k) % s !== 0))
    ctx.fail(
      `ceil_mode=1 changes the output size here (input ${h}×${w}, kernel ${k}, stride ${s})`,
    );
  const outH = windowOut(h, k, s, 0),
    outW = windowOut(w, k, s, 0);
  if (outH < 1 || outW < 1) ctx.fail(`kernel ${k} is larger than the input ${h}×${w}`);
  b.spec({ type: max ? 'maxpool2d' : 'avgpool2d', kernelSize: k, stride: s });
  b.setShape([c, outH, outW], ctx.where);
}

export function globalPool(ctx: NodeContext, b: LayerList): void {
  const [c, h, w] = image(ctx, b);
  if (h !== w) ctx.fail(`a global pool over a non-square ${h}×${w} map is not supported`);
  const type = ctx.node.opType === 'GlobalMaxPool' ? 'maxpool2d' : 'avgpool2d';
  b.spec({ type, kernelSize: h, stride: h });
  b.setShape([c, 1, 1], ctx.where);
}

/** Ends at [N, D]: a flatten layer unless the data already is a vector. */
function toVector(ctx: NodeContext, b: LayerList, what: string): void {
  if (b.hgShape.length === 1) {
    b.notes.push(`${ctx.where}: ${what} of an [N, D] value removed`);
  } else b.spec({ type: 'flatten' });
  b.setShape([b.shape.reduce((x, y) => x * y, 1)], ctx.where);
}

export function flatten(ctx: NodeContext, b: LayerList): void {
  const rank = b.shape.length + 1;
  const axis = ctx.int('axis', 1);
  if ((axis < 0 ? axis + rank : axis) !== 1)
    ctx.fail(`axis ${axis} does not keep the batch axis apart (only axis 1 is supported)`);
  toVector(ctx, b, 'Flatten');
}

/**
 * Sets a new ONNX description of the same values (same order): a vector becomes a flatten layer, hashguard's own
 * shape needs nothing, anything else is a relabelling that only shape-blind ops may follow.
 */
function relabel(ctx: NodeContext, b: LayerList, shape: number[], what: string): void {
  if (shape.length === 1) return toVector(ctx, b, what);
  if (shape.length === b.hgShape.length && shape.every((d, i) => d === b.hgShape[i])) {
    b.notes.push(`${ctx.where}: ${what} keeps the layout, removed`);
    b.setShape(shape, ctx.where);
    return;
  }
  b.shape = shape;
  b.notes.push(`${ctx.where}: ${what} only relabels size-1 axes ([N, ${shape.join(', ')}])`);
}

export function reshape(
  ctx: NodeContext,
  b: LayerList,
  dataIndex: number,
  batch: number | null,
): void {
  if (dataIndex !== 0) ctx.fail('the data must be the first input');
  const target = [...ctx.constInput(1, 'shape').values];
  const allowZero = ctx.int('allowzero', 0) === 1;
  if (target.slice(1).some(Number.isNaN))
    ctx.fail('only the first shape entry may be the batch size');
  // The first entry must keep the batch: 0 (copy), the batch size read by Shape (NaN here), the graph's fixed
  // batch size, or -1 with every other entry known.
  const first = target[0];
  const keepsBatch =
    Number.isNaN(first) ||
    (first === 0 && !allowZero) ||
    (batch !== null && first === batch) ||
    (first === -1 && !target.slice(1).includes(-1));
  if (!keepsBatch || target.length < 2)
    ctx.fail(
      `Reshape to [${target.map((t) => (Number.isNaN(t) ? 'N' : t)).join(', ')}] does not keep the batch axis (supported: [N, -1], [0, -1], [N, features])`,
    );
  const per = reshapeDims(ctx, b.shape, target.slice(1), allowZero);
  // A copied 0 refers to input axis i+1 in the full shape, which is per-example axis i: reshapeDims saw the
  // per-example dims, so the indices line up.
  if (per.length !== 1 && !per.every((d, i) => d === b.shape[i]))
    ctx.fail(
      `Reshape to [N, ${per.join(', ')}] from [N, ${b.shape.join(', ')}] is not a flatten (supported: [N, -1], [0, -1], [N, features])`,
    );
  relabel(ctx, b, per, 'Reshape');
}

/** Transpose of the data: allowed only when it moves no value (the batch stays first, non-1 axes keep their order). */
export function transpose(ctx: NodeContext, b: LayerList): void {
  const rank = b.shape.length + 1;
  const perm = ctx.ints('perm', null) ?? [...Array(rank).keys()].reverse();
  if (
    perm.length !== rank ||
    new Set(perm).size !== rank ||
    perm.some((p) => !(p >= 0 && p < rank))
  )
    ctx.fail(`perm [${perm.join(', ')}] is not a permutation of ${rank} axes`);
  const full = [0, ...b.shape]; // the batch counts as a non-1 axis
  const moved = perm.filter((p) => full[p] !== 1);
  if (perm[0] !== 0 || moved.some((p, i) => i > 0 && p < moved[i - 1]))
    ctx.fail(
      `perm [${perm.join(', ')}] moves data (e.g. NCHW → NHWC); hashguard's layers are NCHW, so only transposes of size-1 axes are supported`,
    );
  relabel(
    ctx,
    b,
    perm.slice(1).map((p) => full[p]),
    'Transpose',
  );
}

export function squeeze(ctx: NodeContext, b: LayerList, dataIndex: number): void {
  if (dataIndex !== 0) ctx.fail('the data must be the first input');
  const rank = b.shape.length + 1;
  const unsqueeze = ctx.node.opType === 'Unsqueeze';
  const axes =
    ctx.opset >= 13 ? (ctx.hasInput(1) ? ctx.intsInput(1, 'axes') : null) : ctx.ints('axes', null);
  const outRank = unsqueeze ? rank + (axes?.length ?? 0) : rank;
  const norm = (axes ?? []).map((a) => (a < 0 ? a + outRank : a));
  if (norm.includes(0)) ctx.fail('the batch axis cannot be squeezed or unsqueezed');
  let shape: number[];
  if (unsqueeze) {
    if (!axes) return ctx.fail('Unsqueeze needs axes');
    shape = [];
    let j = 0;
    for (let i = 1; i < outRank; i++) shape.push(norm.includes(i) ? 1 : b.shape[j++]);
  } else {
    for (const a of norm)
      if (b.shape[a - 1] !== 1) ctx.fail(`axis ${a} has size ${b.shape[a - 1]}, not 1`);
    shape = b.shape.filter((d, i) => (axes ? !norm.includes(i + 1) : d !== 1));
    if (shape.length === 0) ctx.fail('squeezing every axis leaves no feature axis');
  }
  relabel(ctx, b, shape, ctx.node.opType);
}

export function dropout(ctx: NodeContext, b: LayerList): void {
  // Inference semantics (ONNX: the identity unless training_mode is true).
  if (ctx.opset >= 12 && ctx.hasInput(2)) {
    const training = ctx.optionalScalar(2, 'training_mode');
    if (training) ctx.fail('training_mode is true: dropout would be random');
  }
  b.notes.push(`${ctx.where}: removed (identity at inference)`);
}

export function identity(ctx: NodeContext, b: LayerList): void {
  b.notes.push(`${ctx.where}: removed`);
}

/** Cast of the (float) data to FLOAT or DOUBLE changes nothing hashguard computes; to an integer type it would. */
export function cast(ctx: NodeContext, b: LayerList): void {
  const to = ctx.int('to', 0);
  if (to !== 1 && to !== 11)
    ctx.fail(`Cast of the data to data type ${to} is not supported (only to FLOAT or DOUBLE)`);
  b.notes.push(`${ctx.where}: float Cast removed`);
}

/** The axis rule of (Log)Softmax: over the class axis of an [N, K] value. */
export function softmaxAxisOk(ctx: NodeContext, b: LayerList): void {
  if (b.shape.length !== 1)
    ctx.fail(`over an [N, ${b.shape.join(', ')}] value is not supported (only [N, classes])`);
  const axis = ctx.int('axis', ctx.opset < 13 ? 1 : -1);
  if (axis !== 1 && axis !== -1) ctx.fail(`axis ${axis} is not the class axis`);
}

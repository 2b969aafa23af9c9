// Op handlers that make or fold into weighted layers: Conv (absorbing a preceding zero Pad), Gemm, MatMul with a
// constant matrix, BatchNormalization (folded into the preceding conv/dense, else an affine layer), and Pad.
import type { LayerList } from './layer-list.ts';
import type { Const, NodeContext } from './node-context.ts';

/** Output size of a conv or pool window along one axis. */
export function windowOut(size: number, k: number, s: number, pad: number): number {
  return Math.floor((size + 2 * pad - k) / s) + 1;
}

/**
 * The symmetric padding of a Conv/pool node: explicit `pads` (all equal) or auto_pad SAME_* when it pads both
 * sides alike; `sizes` are the spatial input sizes. Asymmetric padding is refused (hashguard pads symmetrically).
 */
export function symmetricPadding(
  ctx: NodeContext,
  sizes: readonly number[],
  k: number,
  s: number,
): number {
  const autoPad = ctx.string('auto_pad', 'NOTSET');
  if (autoPad === 'VALID') return 0;
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const totals = sizes.map((n) => Math.max((Math.ceil(n / s) - 1) * s + k - n, 0));
    if (totals.some((t) => t % 2 !== 0) || totals.some((t) => t !== totals[0]))
      ctx.fail(
        `auto_pad ${autoPad} pads [${totals.join(', ')}] in total here, which is not the same on both sides of each axis (only symmetric padding is supported)`,
      );
    return totals[0] / 2;
  }
  if (autoPad !== 'NOTSET') ctx.fail(`auto_pad '${autoPad}' is not supported`);
  const pads = ctx.ints('pads', null) ?? [0, 0, 0, 0];
  if (pads.length !== 4 || pads.some((p) => p !== pads[0]) || pads[0] < 0)
    ctx.fail(
      `pads [${pads.join(', ')}] are not one symmetric value (hashguard pads every side alike)`,
    );
  return pads[0];
}

/** kernel_shape/strides/dilations checks shared by Conv and pools: square, dilation 1. */
export function squareWindow(ctx: NodeContext, kernel: number[]): { k: number; s: number } {
  if (kernel.length !== 2)
    ctx.fail(`kernel_shape [${kernel.join(', ')}] is not 2-D (only 2-D NCHW is supported)`);
  if (!(kernel[0] >= 1)) ctx.fail(`kernel_shape [${kernel.join(', ')}] is empty`);
  if (kernel[0] !== kernel[1])
    ctx.fail(`non-square kernel ${kernel[0]}×${kernel[1]} is not supported`);
  const strides = ctx.ints('strides', null) ?? [1, 1];
  if (strides.length !== 2 || strides[0] !== strides[1] || strides[0] < 1)
    ctx.fail(`strides [${strides.join(', ')}] are not one square stride`);
  const dilations = ctx.ints('dilations', null) ?? [1, 1];
  if (dilations.some((d) => d !== 1))
    ctx.fail(`dilations [${dilations.join(', ')}] are not supported (only 1)`);
  return { k: kernel[0], s: strides[0] };
}

function requireImage(ctx: NodeContext, b: LayerList): [number, number, number] {
  if (b.shape.length !== 3 || b.isView)
    ctx.fail(`expects an [N, C, H, W] input, got [N, ${b.shape.join(', ')}]`);
  return b.shape as [number, number, number];
}

function requireVector(ctx: NodeContext, b: LayerList): number {
  if (b.shape.length !== 1)
    ctx.fail(`expects an [N, D] input (after Flatten), got [N, ${b.shape.join(', ')}]`);
  return b.shape[0];
}

function requireDataFirst(ctx: NodeContext, dataIndex: number): void {
  if (dataIndex !== 0)
    ctx.fail(
      `the data must be the first input (input ${dataIndex} is; the weight must be constant)`,
    );
}

export function conv(ctx: NodeContext, b: LayerList, dataIndex: number): void {
  requireDataFirst(ctx, dataIndex);
  const [c, h, w] = requireImage(ctx, b);
  const weight = ctx.constInput(1, 'weight');
  if (weight.dims.length !== 4)
    ctx.fail(`weight of shape [${weight.dims.join(', ')}] is not a 2-D conv kernel`);
  const [o, i, kh, kw] = weight.dims;
  const group = ctx.int('group', 1);
  if (group !== 1) ctx.fail(`group=${group} (grouped or depthwise convolution) is not supported`);
  const kernel = ctx.ints('kernel_shape', null) ?? [kh, kw];
  if (kernel[0] !== kh || kernel[1] !== kw)
    ctx.fail(`kernel_shape [${kernel.join(', ')}] differs from the weight's [${kh}, ${kw}]`);
  const { k, s } = squareWindow(ctx, kernel);
  if (i !== c) ctx.fail(`weight expects ${i} input channels, the input has ${c}`);
  const pre = b.pendingPad;
  const extra = pre?.pad ?? 0;
  const padding = extra + symmetricPadding(ctx, [h + 2 * extra, w + 2 * extra], k, s);
  const bias = ctx.optionalConst(2, 'bias');
  if (bias && bias.values.length !== o)
    ctx.fail(`bias has ${bias.values.length} values for ${o} output channels`);
  b.push({
    kind: 'linear',
    type: 'conv2d',
    inSize: c,
    outSize: o,
    kernelSize: k,
    stride: s,
    padding,
    weight: weight.values.slice(),
    bias: bias ? bias.values.slice() : new Float64Array(o),
    weightName: ctx.inputName(1),
    biasName: bias ? ctx.inputName(2) : '',
  });
  if (pre) {
    b.notes.push(`${pre.where}: zero padding ${pre.pad} folded into ${ctx.where}`);
    b.pendingPad = null;
  }
  b.setShape([o, windowOut(h, k, s, padding), windowOut(w, k, s, padding)], ctx.where);
}

/** A dense layer y = x·Wᵀ + bias from a [out][in] weight. */
function pushDense(
  ctx: NodeContext,
  b: LayerList,
  weight: Float64Array,
  out: number,
  inDim: number,
  bias: Float64Array,
  names: [string, string],
) {
  b.push({
    kind: 'linear',
    type: 'dense',
    inSize: inDim,
    outSize: out,
    kernelSize: 1,
    stride: 1,
    padding: 0,
    weight,
    bias,
    weightName: names[0],
    biasName: names[1],
  });
  b.setShape([out], ctx.where);
}

/** [rows][cols] → [cols][rows]. */
function transposed(m: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c];
  return t;
}

export function gemm(ctx: NodeContext, b: LayerList, dataIndex: number): void {
  requireDataFirst(ctx, dataIndex);
  const d = requireVector(ctx, b);
  if (ctx.int('transA', 0) !== 0) ctx.fail('transA=1 (a transposed data input) is not supported');
  const B = ctx.constInput(1, 'B');
  if (B.dims.length !== 2) ctx.fail(`B of shape [${B.dims.join(', ')}] is not a matrix`);
  const transB = ctx.int('transB', 0) !== 0;
  const [out, inDim] = transB ? B.dims : [B.dims[1], B.dims[0]];
  if (inDim !== d) ctx.fail(`B expects ${inDim} input features, the input has ${d}`);
  const alpha = ctx.float('alpha', 1);
  const beta = ctx.float('beta', 1);
  const weight = transB ? B.values.slice() : transposed(B.values, inDim, out);
  for (let j = 0; j < weight.length; j++) weight[j] *= alpha;
  const bias = new Float64Array(out);
  const C = ctx.optionalConst(2, 'C');
  if (C) {
    const bc = rowBias(ctx, C, out);
    for (let j = 0; j < out; j++) bias[j] = beta * bc[j];
  }
  pushDense(ctx, b, weight, out, inDim, bias, [ctx.inputName(1), C ? ctx.inputName(2) : '']);
}

/** Gemm's C broadcast to one row of `out` values: scalar, [out], [1, out] or [1, 1]; [N, out] is refused. */
function rowBias(ctx: NodeContext, c: Const, out: number): Float64Array {
  const dims = c.dims;
  if (dims.length > 2 || (dims.length === 2 && dims[0] !== 1))
    ctx.fail(`C of shape [${dims.join(', ')}] differs per batch row (only a bias row broadcasts)`);
  const n = dims.length ? dims[dims.length - 1] : 1;
  if (n !== 1 && n !== out)
    ctx.fail(`C of shape [${dims.join(', ')}] does not broadcast to ${out} outputs`);
  return n === 1 ? new Float64Array(out).fill(c.values[0]) : c.values.slice();
}

export function matmul(ctx: NodeContext, b: LayerList, dataIndex: number): void {
  requireDataFirst(ctx, dataIndex);
  const d = requireVector(ctx, b);
  const B = ctx.constInput(1, 'B');
  if (B.dims.length !== 2) ctx.fail(`B of shape [${B.dims.join(', ')}] is not a matrix`);
  const [inDim, out] = B.dims;
  if (inDim !== d) ctx.fail(`B expects ${inDim} input features, the input has ${d}`);
  pushDense(ctx, b, transposed(B.values, inDim, out), out, inDim, new Float64Array(out), [
    ctx.inputName(1),
    '',
  ]);
}

export function batchNorm(ctx: NodeContext, b: LayerList, dataIndex: number): void {
  requireDataFirst(ctx, dataIndex);
  if (ctx.int('training_mode', 0) !== 0) ctx.fail('training_mode=1 is not an inference graph');
  if (ctx.node.output.filter((o) => o !== '').length > 1)
    ctx.fail('running-statistics outputs (training form) are not supported');
  if (b.isView || (b.shape.length !== 3 && b.shape.length !== 1))
    ctx.fail(`expects [N, C, H, W] or [N, C], got [N, ${b.shape.join(', ')}]`);
  const c = b.shape[0];
  const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => {
    const v = ctx.constInput(i, ['scale', 'B', 'mean', 'var'][i - 1]);
    if (v.values.length !== c)
      ctx.fail(`input ${i} has ${v.values.length} values for ${c} channels`);
    return v.values;
  });
  const eps = ctx.float('epsilon', 1e-5);
  const s = new Float64Array(c),
    t = new Float64Array(c);
  for (let j = 0; j < c; j++) {
    s[j] = scale[j] / Math.sqrt(variance[j] + eps);
    t[j] = bias[j] - mean[j] * s[j];
  }
  b.affine(s, t, ctx.where, 'batch normalization');
}

export function pad(ctx: NodeContext, b: LayerList, dataIndex: number): void {
  requireDataFirst(ctx, dataIndex);
  requireImage(ctx, b);
  const mode = ctx.string('mode', 'constant');
  if (mode !== 'constant')
    ctx.fail(`mode '${mode}' is not supported (only zero 'constant' padding)`);
  let pads: number[];
  let value: number;
  if (ctx.opset < 11) {
    pads = ctx.ints('pads', null) ?? ctx.fail('pads attribute is missing');
    value = ctx.float('value', 0);
  } else {
    pads = ctx.intsInput(1, 'pads');
    value = ctx.optionalScalar(2, 'constant_value') ?? 0;
    if (ctx.hasInput(3)) {
      // opset 18: pads for the listed axes only.
      const axes = ctx.intsInput(3, 'axes').map((a) => (a < 0 ? a + 4 : a));
      if (axes.some((a) => !(a >= 0 && a < 4)) || pads.length !== 2 * axes.length)
        ctx.fail(`axes [${axes.join(', ')}] with pads [${pads.join(', ')}] do not fit a 4-D input`);
      const full = new Array<number>(8).fill(0);
      axes.forEach((a, i) => ((full[a] = pads[i]), (full[a + 4] = pads[i + axes.length])));
      pads = full;
    }
  }
  if (value !== 0) ctx.fail(`constant value ${value} is not supported (only zero padding)`);
  if (pads.length !== 8) ctx.fail(`pads [${pads.join(', ')}] do not describe a 4-D input`);
  const p = pads[2];
  if (
    pads[0] ||
    pads[1] ||
    pads[4] ||
    pads[5] ||
    [pads[3], pads[6], pads[7]].some((q) => q !== p) ||
    p < 0
  )
    ctx.fail(
      `pads [${pads.join(', ')}] are not one symmetric, non-negative spatial padding (needed to fold into a Conv)`,
    );
  if (p === 0) {
    b.notes.push(`${ctx.where}: zero-width Pad removed`);
    return;
  }
  b.pendingPad = { pad: (b.pendingPad?.pad ?? 0) + p, where: ctx.where };
}

// Walks an ONNX graph as a chain: nodes with only constant inputs are folded, every other node must consume the
// value the previous one produced (branches and joins are refused by name), and each is handed to its op
// handler, which grows the LayerList. The op table lives here, so the supported list in errors is the real one.
import { OnnxError } from './errors.ts';
import type { OnnxGraph } from './onnx-model.ts';
import { FOLDABLE_OPS, foldNode, shapeOf } from './const-fold.ts';
import type { LayerList } from './layer-list.ts';
import { ConstTable, NodeContext } from './node-context.ts';
import { arithmetic, clip, leakyRelu, relu, sigmoid, tanh } from './ops-elementwise.ts';
import { batchNorm, conv, gemm, matmul, pad } from './ops-linear.ts';
import {
  cast,
  dropout,
  flatten,
  globalPool,
  identity,
  pool,
  reshape,
  softmaxAxisOk,
  squeeze,
  transpose,
} from './ops-shape.ts';

/** What a handler gets besides its node: the layer list, which input is the data, the graph's fixed batch size. */
type Handler = (ctx: NodeContext, b: LayerList, dataIndex: number, batch: number | null) => void;

const DATA_OPS: Record<string, Handler> = {
  Conv: conv,
  Gemm: gemm,
  MatMul: matmul,
  BatchNormalization: batchNorm,
  Pad: pad,
  Add: arithmetic,
  Sub: arithmetic,
  Mul: arithmetic,
  Div: arithmetic,
  Relu: relu,
  LeakyRelu: leakyRelu,
  Sigmoid: sigmoid,
  Tanh: tanh,
  Clip: clip,
  MaxPool: pool,
  AveragePool: pool,
  GlobalAveragePool: globalPool,
  GlobalMaxPool: globalPool,
  Flatten: flatten,
  Reshape: reshape,
  Transpose: transpose,
  Squeeze: squeeze,
  Unsqueeze: squeeze,
  Dropout: dropout,
  Identity: identity,
  Cast: cast,
};
const TERMINAL = { Softmax: 'softmax', LogSoftmax: 'log-softmax' } as const;

/** Every op the importer maps or folds, for error messages and docs. */
export const SUPPORTED_OPS: readonly string[] = [
  ...new Set([...Object.keys(DATA_OPS), ...Object.keys(TERMINAL), ...FOLDABLE_OPS]),
].sort();

/** Ops whose extra outputs exist but must stay unused (Dropout's mask, MaxPool's indices). */
const OPTIONAL_EXTRA_OUTPUTS = new Set(['Dropout', 'MaxPool']);

export interface WalkResult {
  /** Name of the chain's last value (must be the graph's output). */
  last: string;
  output: 'logits' | 'softmax' | 'log-softmax';
}

/**
 * Walks `graph` from its data input `input`, growing `b`. `batch` is the graph's fixed batch size, if any
 * (a Reshape to [batch, D] then keeps the batch).
 */
export function walkGraph(
  graph: OnnxGraph,
  input: string,
  opset: number,
  consts: ConstTable,
  b: LayerList,
  batch: number | null,
): WalkResult {
  const data = new Map<string, number[]>([[input, b.shape]]); // data value → its ONNX per-example shape
  const consumer = new Map<string, string>(); // data value → the node that consumed it
  const unusable = new Map<string, string>(); // outputs that must stay unused → why
  const sparse = new Set(graph.sparseInitializer);
  let cur = input;
  let output: WalkResult['output'] = 'logits';
  let terminal: string | null = null;

  graph.node.forEach((node, index) => {
    const ctx = new NodeContext(node, index, opset, consts);
    if (node.domain !== '' && node.domain !== 'ai.onnx')
      unsupported(ctx, `domain '${node.domain}'`);
    node.input.forEach((name, i) => {
      const why = unusable.get(name);
      if (why) ctx.fail(`input ${i} '${name}' is ${why}, which hashguard does not compute`);
      if (sparse.has(name))
        ctx.fail(`input ${i} '${name}' is a sparse initializer (not supported)`);
    });
    const dataInputs = node.input.map((n, i) => [n, i] as const).filter(([n]) => n && data.has(n));
    if (dataInputs.length === 0) {
      // Constant subgraph: fold now (refusing ops that cannot be folded).
      if (
        !FOLDABLE_OPS.includes(node.opType as (typeof FOLDABLE_OPS)[number]) &&
        !DATA_OPS[node.opType]
      )
        unsupported(ctx);
      node.input.forEach((n, i) => {
        if (n && !consts.has(n))
          ctx.fail(`input ${i} '${n}' is not produced by any earlier node or initializer`);
      });
      foldNode(ctx).forEach((c, i) => node.output[i] && consts.set(node.output[i], c));
      return;
    }
    if (node.opType === 'Shape' && node.input.length === 1) {
      // The shape of a data value is known but for the batch size (NaN).
      consts.set(node.output[0], shapeOf(ctx, [NaN, ...data.get(node.input[0])!]));
      return;
    }
    if (dataInputs.length > 1)
      ctx.fail(
        `joins two data paths ('${dataInputs[0][0]}' and '${dataInputs[1][0]}'): only chains are supported`,
      );
    const [name, dataIndex] = dataInputs[0];
    if (name !== cur || consumer.has(name))
      ctx.fail(
        `consumes '${name}', which ${consumer.get(name) ?? 'another node'} already consumed: the graph branches (only chains are supported)`,
      );
    if (terminal) ctx.fail(`follows ${terminal}, which must be the last node`);
    consumer.set(name, ctx.where);
    node.input.forEach((n, i) => {
      if (n && i !== dataIndex && !consts.has(n))
        ctx.fail(`input ${i} '${n}' is neither the data nor a constant`);
    });
    const kind = TERMINAL[node.opType as keyof typeof TERMINAL];
    if (kind) {
      softmaxAxisOk(ctx, b);
      output = kind;
      terminal = ctx.where;
      b.notes.push(
        `${ctx.where}: trailing ${node.opType} dropped (the model returns logits; output '${kind}')`,
      );
    } else {
      const handler = DATA_OPS[node.opType];
      if (!handler) unsupported(ctx);
      if (b.pendingPad && node.opType !== 'Conv' && node.opType !== 'Pad')
        ctx.fail(`follows ${b.pendingPad.where}; a zero Pad folds only into a following Conv`);
      handler(ctx, b, dataIndex, batch);
    }
    node.output.slice(1).forEach((o) => {
      if (!o) return;
      if (!OPTIONAL_EXTRA_OUTPUTS.has(node.opType))
        ctx.fail(`has a second output '${o}' (not supported)`);
      unusable.set(o, `output ${o} of ${ctx.where}`);
    });
    if (!node.output[0]) ctx.fail('has no output');
    cur = node.output[0];
    data.set(cur, [...b.shape]);
  });
  if (b.pendingPad)
    throw new OnnxError(
      `${b.pendingPad.where}: a zero Pad at the end of the graph folds into no Conv`,
    );
  return { last: cur, output };
}

function unsupported(ctx: NodeContext, what = `op ${ctx.node.opType}`): never {
  return ctx.fail(`unsupported ${what}; supported ops: ${SUPPORTED_OPS.join(', ')}`);
}

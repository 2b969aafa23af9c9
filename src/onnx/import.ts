// importOnnx: ONNX bytes → hashguard layers and parameters. Finds the opset and the one data input, settles the
// input shape ([N,C,H,W], or [N,D] with a caller-given [C,H,W]), prepends --normalize, walks the chain and checks
// that it ends in class scores. Pure: external data comes through a caller-supplied reader.
import { layerOutputShape, type LayerSpec } from '../nn/index.ts';
import type { Tensor } from '../tensor/index.ts';
import { decodeOnnxModel } from './decode.ts';
import { OnnxError } from './errors.ts';
import { walkGraph } from './graph-walk.ts';
import { LayerList, checkActivation } from './layer-list.ts';
import { ConstTable } from './node-context.ts';
import { DataType, dataTypeName, type OnnxModel } from './onnx-model.ts';

/** Opsets of the standard domain the importer reads. */
export const MIN_OPSET = 9;
export const MAX_OPSET = 21;

export interface ImportOptions {
  /** [C, H, W] of one image; required when the graph's input is [N, D] (then C·H·W = D) or has symbolic sizes. */
  inputShape?: [number, number, number];
  /** Normalization the model expects outside its graph: y = (x − mean)/std per channel (lists of 1 or C). */
  normalize?: { mean: number[]; std: number[] };
  /** Reads an external data file by its relative `location` (the CLI confines it to the model's folder). */
  externalData?: (location: string) => Uint8Array;
}

/** A model the importer made: hashguard layers, float32 parameters and what it found on the way. */
export interface ImportedOnnx {
  layers: LayerSpec[];
  params: Map<string, Tensor>;
  inputShape: [number, number, number];
  classes: number;
  /** What the graph returned before a trailing (Log)Softmax was dropped; the layers return logits. */
  output: 'logits' | 'softmax' | 'log-softmax';
  opset: number;
  producer: string;
  /** What was folded, merged or removed, in order, for provenance. */
  notes: string[];
}

/** Imports ONNX bytes; throws OnnxError naming the field path or node for anything it cannot map exactly. */
export function importOnnx(bytes: Uint8Array, options: ImportOptions = {}): ImportedOnnx {
  const model = decodeOnnxModel(bytes, { externalData: options.externalData });
  const { outputShape, ...imported } = importDecoded(model, options);
  return imported;
}

/**
 * importOnnx on a decoded model. `anyOutputShape` accepts a chain that does not end in [N, classes] (tests of
 * single ops); `outputShape` is the chain's per-example output shape.
 */
export function importDecoded(
  model: OnnxModel,
  options: ImportOptions & { anyOutputShape?: boolean } = {},
): ImportedOnnx & { outputShape: number[] } {
  const opset = standardOpset(model);
  const g = model.graph;
  const consts = new ConstTable();
  for (const t of g.initializer) consts.addTensor(t);
  // Initializers may also be listed as graph inputs (IR < 4 requires it): those are not data.
  const dataInputs = g.input.filter((v) => !consts.has(v.name));
  if (dataInputs.length !== 1)
    throw new OnnxError(
      `graph: expected one data input, found ${dataInputs.length}${dataInputs.length ? ` (${dataInputs.map((v) => `'${v.name}'`).join(', ')})` : ''}`,
    );
  const input = dataInputs[0];
  if (input.elemType !== 0 && input.elemType !== DataType.FLOAT)
    throw new OnnxError(
      `graph input '${input.name}': element type ${dataTypeName(input.elemType)} is not supported (FLOAT images)`,
    );
  const { chw, graphShape, batch } = settleInputShape(input.name, input.dims, options.inputShape);
  const b = new LayerList(chw);
  if (options.normalize) normalizeLayer(b, options.normalize, chw[0]);
  if (graphShape.length === 1) {
    b.spec({ type: 'flatten' });
    b.setShape(graphShape, `graph input '${input.name}'`);
    b.notes.push(
      `graph input '${input.name}' is [N, ${graphShape[0]}]: images [${chw.join(', ')}] are flattened first`,
    );
  }
  const { last, output } = walkGraph(g, input.name, opset, consts, b, batch);
  if (g.output.length !== 1)
    throw new OnnxError(`graph: expected one output, found ${g.output.length}`);
  if (g.output[0].name !== last)
    throw new OnnxError(
      `graph output '${g.output[0].name}' is not the end of the chain ('${last}'): the graph branches or ends early`,
    );
  if (last === input.name) throw new OnnxError('graph: no node between the input and the output');
  if (b.isView && b.shape.length !== 1)
    throw new OnnxError(
      `graph output: a relabelled layout [N, ${b.shape.join(', ')}] is not supported`,
    );
  if (b.shape.length !== 1 && !options.anyOutputShape)
    throw new OnnxError(
      `graph output '${last}' is [N, ${b.shape.join(', ')}]; a classifier must end in [N, classes] (add a Flatten)`,
    );
  const { layers, params } = b.finish();
  // The layer table's own shape rules must agree with the walk (a second, independent check).
  let shape: number[] = [...chw];
  layers.forEach((spec, i) => {
    try {
      shape = layerOutputShape(spec, shape, i);
    } catch (e) {
      throw new OnnxError(`imported layers do not chain: ${(e as Error).message}`);
    }
  });
  return {
    layers,
    params,
    inputShape: chw,
    classes: shape.length === 1 ? shape[0] : 0,
    output,
    opset,
    producer: `${model.producerName}${model.producerVersion ? ` ${model.producerVersion}` : ''}`,
    notes: b.notes,
    outputShape: shape,
  };
}

function standardOpset(model: OnnxModel): number {
  const std = model.opsetImport.filter((o) => o.domain === '' || o.domain === 'ai.onnx');
  if (!std.length) throw new OnnxError('opset_import: no entry for the standard domain (ai.onnx)');
  const opset = Math.max(...std.map((o) => o.version));
  if (opset < MIN_OPSET || opset > MAX_OPSET)
    throw new OnnxError(
      `opset ${opset} is not supported (opsets ${MIN_OPSET} to ${MAX_OPSET} are)`,
    );
  return opset;
}

/** [C, H, W] of one image, the graph's per-example input shape, and the graph's fixed batch size if any. */
function settleInputShape(
  name: string,
  dims: (number | string | null)[] | null,
  given: [number, number, number] | undefined,
): { chw: [number, number, number]; graphShape: number[]; batch: number | null } {
  const where = `graph input '${name}'`;
  if (given && (given.length !== 3 || given.some((d) => !Number.isInteger(d) || d < 1)))
    throw new OnnxError(
      `inputShape [${given.join(', ')}] is not three positive integers [C, H, W]`,
    );
  if (given) checkActivation(given, 'inputShape');
  const batch = dims && typeof dims[0] === 'number' ? dims[0] : null;
  const per = dims?.slice(1) ?? null;
  const known = per?.every((d): d is number => typeof d === 'number') ? (per as number[]) : null;
  if (dims && dims.length === 4) {
    if (known && given && known.some((d, i) => d !== given[i]))
      throw new OnnxError(
        `${where} is [N, ${known.join(', ')}], but inputShape says [${given.join(', ')}]`,
      );
    const chw = (known ?? given) as [number, number, number] | undefined;
    if (!chw)
      throw new OnnxError(
        `${where} has symbolic sizes [${dims.join(', ')}]: give the input shape [C, H, W]`,
      );
    checkActivation(chw, where);
    return { chw: [...chw], graphShape: [...chw], batch };
  }
  if (dims && dims.length === 2) {
    if (!given)
      throw new OnnxError(
        `${where} is [N, ${dims[1] ?? '?'}] (flat): give the image shape [C, H, W] it flattens (e.g. --input-shape 1,28,28)`,
      );
    const d = given[0] * given[1] * given[2];
    if (typeof dims[1] === 'number' && dims[1] !== d)
      throw new OnnxError(
        `${where} is [N, ${dims[1]}], but inputShape [${given.join(', ')}] holds ${d} values`,
      );
    return { chw: [...given], graphShape: [d], batch };
  }
  if (!dims && given) return { chw: [...given], graphShape: [...given], batch: null };
  throw new OnnxError(
    `${where} has ${dims ? `rank ${dims.length} ([${dims.join(', ')}])` : 'no shape'}: expected [N, C, H, W], or [N, D] with an input shape`,
  );
}

/** Prepends y = (x − mean)/std per channel as an affine layer. */
function normalizeLayer(
  b: LayerList,
  n: { mean: number[]; std: number[] },
  channels: number,
): void {
  const ok = (a: number[]) => a.length === 1 || a.length === channels;
  if (!ok(n.mean) || !ok(n.std) || ![...n.mean, ...n.std].every(Number.isFinite))
    throw new OnnxError(`normalize: mean and std need 1 or ${channels} finite values each`);
  if (n.std.some((s) => s === 0)) throw new OnnxError('normalize: std must not be 0');
  const len = Math.max(n.mean.length, n.std.length);
  const at = (a: number[], i: number) => (a.length === 1 ? a[0] : a[i]);
  const scale = Float64Array.from({ length: len }, (_, i) => 1 / at(n.std, i));
  const shift = Float64Array.from({ length: len }, (_, i) => -at(n.mean, i) / at(n.std, i));
  b.affine(scale, shift, 'normalize', `input normalization (mean ${n.mean}, std ${n.std})`);
}

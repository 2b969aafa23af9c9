// exportOnnx: hashguard layers → an ONNX graph (opset 13) computing the same logits. Hashed layers are written with
// their virtual weights expanded (ONNX has no HashedNets op: the dense-equivalent network); static gradient
// inhibition is already in the stored weights; a random GI stage (fresh noise per query) has no ONNX form and is refused.
import { layerOutputShape, virtualWeight, type LayerSpec } from '../nn/index.ts';
import type { Tensor } from '../tensor/index.ts';
import { encodeOnnxModel } from './encode.ts';
import { OnnxError } from './errors.ts';
import { DataType, type OnnxAttribute, type OnnxNode, type OnnxTensor } from './onnx-model.ts';

/** The opset exported graphs declare (Clip takes its bounds as inputs from opset 11 on). */
export const EXPORT_OPSET = 13;

export interface ExportOptions {
  /**
   * A constant every logit is multiplied by (a final Mul node); for a caller that wants a fixed logit scale in
   * the graph. Static GI stages need none: they are already in the weights.
   */
  giScale?: number;
  /** The model's DefenseSpec (model.json `defense`): a `random` stage is refused, static stages need nothing. */
  defense?: { stages: readonly { kind: string }[] } | null;
  /** producer_name written into the file (default 'hashguard'). */
  producer?: string;
}

const f32 = (name: string, dims: number[], data: ArrayLike<number>): OnnxTensor => ({
  name,
  dims,
  dataType: DataType.FLOAT,
  data: Float32Array.from(data),
});
const intsAttr = (name: string, ints: number[]): OnnxAttribute => ({ name, type: 7, ints });
const intAttr = (name: string, i: number): OnnxAttribute => ({ name, type: 2, i });

/** ONNX bytes of the network: input "x" [N, ...inputShape] → output "logits" [N, classes]. */
export function exportOnnx(
  layers: readonly LayerSpec[],
  params: ReadonlyMap<string, Tensor>,
  inputShape: readonly number[],
  classes: number,
  options: ExportOptions = {},
): Uint8Array {
  const random = options.defense?.stages.find((s) => s.kind === 'random');
  if (random)
    throw new OnnxError(
      "defense: the 'random' gradient-inhibition stage draws fresh logit scales and weight noise for every query; ONNX has no such op, so the model cannot be exported with it (export its source model instead)",
    );
  if (!layers.length) throw new OnnxError('export: the model has no layers');
  const nodes: OnnxNode[] = [];
  const inits: OnnxTensor[] = [];
  const names = new Set<string>();
  const constant = (wanted: string, dims: number[], data: ArrayLike<number>): string => {
    let n = wanted;
    for (let k = 2; names.has(n); k++) n = `${wanted}_${k}`;
    names.add(n);
    inits.push(f32(n, dims, data));
    return n;
  };
  const param = (name: string, i: number): Tensor => {
    const t = params.get(name);
    if (!t) throw new OnnxError(`export: layers[${i}] needs tensor '${name}', which is missing`);
    return t;
  };
  const node = (op: string, inputs: string[], output: string, attribute: OnnxAttribute[] = []) =>
    nodes.push({
      name: output,
      opType: op,
      domain: '',
      input: inputs,
      output: [output],
      attribute,
    });

  let cur = 'x';
  let shape: number[] = [...inputShape];
  const last = options.giScale === undefined ? layers.length - 1 : -1;
  layers.forEach((spec, i) => {
    const out = i === last ? 'logits' : `h${i}`;
    try {
      shape = layerOutputShape(spec, shape, i);
    } catch (e) {
      throw new OnnxError(`export: ${(e as Error).message}`);
    }
    switch (spec.type) {
      case 'flatten':
        node('Flatten', [cur], out, [intAttr('axis', 1)]);
        break;
      case 'relu':
        node('Relu', [cur], out);
        break;
      case 'sigmoid':
        node('Sigmoid', [cur], out);
        break;
      case 'tanh':
        node('Tanh', [cur], out);
        break;
      case 'leaky-relu':
        node('LeakyRelu', [cur], out, [{ name: 'alpha', type: 1, f: spec.alpha }]);
        break;
      case 'clip': {
        const min = spec.min === null ? '' : constant(`layers.${i}.min`, [], [spec.min]);
        const max = spec.max === null ? '' : constant(`layers.${i}.max`, [], [spec.max]);
        node('Clip', max ? [cur, min, max] : [cur, min], out);
        break;
      }
      case 'affine': {
        // [C, 1, 1] broadcasts over [N, C, H, W]; [D] over [N, D]; length 1 is a scalar.
        const n = spec.scale.length;
        const dims = n === 1 ? [1] : shape.length === 3 ? [n, 1, 1] : [n];
        const scale = constant(`layers.${i}.scale`, dims, spec.scale);
        const shift = constant(`layers.${i}.shift`, dims, spec.shift);
        node('Mul', [cur, scale], `${out}.scaled`);
        node('Add', [`${out}.scaled`, shift], out);
        break;
      }
      case 'maxpool2d':
      case 'avgpool2d':
        node(spec.type === 'maxpool2d' ? 'MaxPool' : 'AveragePool', [cur], out, [
          intsAttr('kernel_shape', [spec.kernelSize, spec.kernelSize]),
          intsAttr('strides', [spec.stride, spec.stride]),
        ]);
        break;
      case 'dense':
      case 'hashed-dense':
      case 'conv2d':
      case 'hashed-conv2d': {
        const stored = param(spec.weight, i);
        const w =
          spec.type === 'hashed-dense' || spec.type === 'hashed-conv2d'
            ? virtualWeight(spec, stored)
            : stored;
        const weight = constant(spec.weight, [...w.shape], w.data);
        const b = param(spec.bias, i);
        const bias = constant(spec.bias, [...b.shape], b.data);
        if (spec.type === 'dense' || spec.type === 'hashed-dense') {
          node('Gemm', [cur, weight, bias], out, [intAttr('transB', 1)]);
        } else {
          const { kernelSize: k, stride: s, padding: p } = spec;
          node('Conv', [cur, weight, bias], out, [
            intsAttr('kernel_shape', [k, k]),
            intsAttr('strides', [s, s]),
            intsAttr('pads', [p, p, p, p]),
          ]);
        }
        break;
      }
    }
    cur = out;
  });
  if (shape.length !== 1 || shape[0] !== classes)
    throw new OnnxError(
      `export: the layers end in [${shape.join(', ')}], not [${classes}] class scores`,
    );
  if (options.giScale !== undefined) {
    if (!Number.isFinite(options.giScale)) throw new OnnxError('export: giScale must be finite');
    node('Mul', [cur, constant('gi.scale', [], [options.giScale])], 'logits');
  }
  const tensorInfo = (name: string, dims: (number | string)[]) => ({
    name,
    elemType: DataType.FLOAT,
    dims,
  });
  return encodeOnnxModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: EXPORT_OPSET }],
    producerName: options.producer ?? 'hashguard',
    producerVersion: '',
    graph: {
      name: 'hashguard',
      node: nodes,
      initializer: inits,
      input: [tensorInfo('x', ['N', ...inputShape])],
      output: [tensorInfo('logits', ['N', classes])],
      sparseInitializer: [],
    },
  });
}

// Decodes ONNX ModelProto bytes into the plain objects of onnx-model.ts: only the fields hashguard uses, each
// checked (wire type, dims ≤ 2^31, element counts ≤ 2^28 before any allocation, external data bounds). Unknown
// fields are skipped by length without being parsed, so unread sub-graphs cost no recursion.
import { OnnxError } from './errors.ts';
import { fillFixed, fixedCount, ProtoReader, WIRE } from './protobuf.ts';
import { decodeTensor, MAX_DIM, type DecodeOptions } from './decode-tensor.ts';
import {
  type OnnxAttribute,
  type OnnxDim,
  type OnnxGraph,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from './onnx-model.ts';

export { MAX_DIM, MAX_TENSOR_ELEMENTS, type DecodeOptions } from './decode-tensor.ts';

/** Parses ModelProto bytes; throws OnnxError (ProtobufError for malformed bytes) naming the field path. */
export function decodeOnnxModel(bytes: Uint8Array, options: DecodeOptions = {}): OnnxModel {
  const r = new ProtoReader(bytes, '');
  // Many tensors share one external file: read each location once.
  const read = options.externalData;
  if (read) {
    const cache = new Map<string, Uint8Array>();
    options = {
      externalData: (location) => {
        let b = cache.get(location);
        if (!b) cache.set(location, (b = read(location)));
        return b;
      },
    };
  }
  const model: OnnxModel = {
    irVersion: 0,
    opsetImport: [],
    producerName: '',
    producerVersion: '',
    graph: emptyGraph(),
  };
  let hasGraph = false;
  for (let k = r.key(); k; k = r.key()) {
    switch (k.field) {
      case 1:
        model.irVersion = r.safeInt('ir_version', k);
        break;
      case 2:
        model.producerName = r.string('producer_name', k);
        break;
      case 3:
        model.producerVersion = r.string('producer_version', k);
        break;
      case 7:
        // A repeated singular message merges into the first (protobuf semantics).
        decodeGraph(r.message('graph', k), model.graph, options);
        hasGraph = true;
        break;
      case 8: {
        const path = `opset_import[${model.opsetImport.length}]`;
        model.opsetImport.push(decodeOpset(r.message(path, k)));
        break;
      }
      default:
        r.skip(k, `#${k.field}`);
    }
  }
  if (!hasGraph) throw new OnnxError('(model): no graph (ModelProto field 7): not an ONNX model');
  return model;
}

/** Parses a lone TensorProto (the .pb files of ONNX's test data); `options` as for a model. */
export function decodeTensorProto(bytes: Uint8Array, options: DecodeOptions = {}): OnnxTensor {
  return decodeTensor(new ProtoReader(bytes, 'tensor'), options);
}

function emptyGraph(): OnnxGraph {
  return { name: '', node: [], initializer: [], input: [], output: [], sparseInitializer: [] };
}

function decodeOpset(r: ProtoReader): { domain: string; version: number } {
  const o = { domain: '', version: 0 };
  for (let k = r.key(); k; k = r.key()) {
    if (k.field === 1) o.domain = r.string(`${r.path}.domain`, k);
    else if (k.field === 2) o.version = r.safeInt(`${r.path}.version`, k);
    else r.skip(k, `${r.path}.#${k.field}`);
  }
  return o;
}

function decodeGraph(r: ProtoReader, g: OnnxGraph, options: DecodeOptions): void {
  const p = r.path;
  for (let k = r.key(); k; k = r.key()) {
    switch (k.field) {
      case 1: {
        const path = `${p}.node[${g.node.length}]`;
        g.node.push(decodeNode(r.message(path, k)));
        break;
      }
      case 2:
        g.name = r.string(`${p}.name`, k);
        break;
      case 5: {
        const path = `${p}.initializer[${g.initializer.length}]`;
        g.initializer.push(decodeTensor(r.message(path, k), options));
        break;
      }
      case 11:
      case 12: {
        const list = k.field === 11 ? g.input : g.output;
        const path = `${p}.${k.field === 11 ? 'input' : 'output'}[${list.length}]`;
        list.push(decodeValueInfo(r.message(path, k)));
        break;
      }
      case 15: {
        // SparseTensorProto: values = 1 (a TensorProto whose name is the initializer's). Only the name is kept.
        const path = `${p}.sparse_initializer[${g.sparseInitializer.length}]`;
        const s = r.message(path, k);
        let name = '';
        for (let sk = s.key(); sk; sk = s.key()) {
          if (sk.field === 1 && sk.wire === WIRE.len) {
            const v = s.message(`${path}.values`);
            for (let vk = v.key(); vk; vk = v.key()) {
              if (vk.field === 8 && vk.wire === WIRE.len) name = v.string(`${path}.values.name`);
              else v.skip(vk, `${path}.values.#${vk.field}`);
            }
          } else s.skip(sk, `${path}.#${sk.field}`);
        }
        g.sparseInitializer.push(name);
        break;
      }
      default:
        r.skip(k, `${p}.#${k.field}`);
    }
  }
}

function decodeNode(r: ProtoReader): OnnxNode {
  const p = r.path;
  const n: OnnxNode = { name: '', opType: '', domain: '', input: [], output: [], attribute: [] };
  for (let k = r.key(); k; k = r.key()) {
    switch (k.field) {
      case 1:
      case 2: {
        const list = k.field === 1 ? n.input : n.output;
        const path = `${p}.${k.field === 1 ? 'input' : 'output'}[${list.length}]`;
        r.spend(1, path);
        list.push(r.string(path, k));
        break;
      }
      case 3:
        n.name = r.string(`${p}.name`, k);
        break;
      case 4:
        n.opType = r.string(`${p}.op_type`, k);
        break;
      case 5: {
        const path = `${p}.attribute[${n.attribute.length}]`;
        n.attribute.push(decodeAttribute(r.message(path, k)));
        break;
      }
      case 7:
        n.domain = r.string(`${p}.domain`, k);
        break;
      default:
        r.skip(k, `${p}.#${k.field}`);
    }
  }
  return n;
}

function decodeAttribute(r: ProtoReader): OnnxAttribute {
  const p = r.path;
  const a: OnnxAttribute = { name: '', type: 0 };
  const floats: (number | Uint8Array)[] = [];
  const ints: bigint[] = [];
  for (let k = r.key(); k; k = r.key()) {
    switch (k.field) {
      case 1:
        a.name = r.string(`${p}.name`, k);
        break;
      case 20:
        a.type = r.int32(`${p}.type`, k);
        break;
      case 2:
        a.f = r.float32(`${p}.f`, k);
        break;
      case 3:
        a.i = r.int64(`${p}.i`, k);
        break;
      case 4:
        a.s = r.bytes(`${p}.s`, k);
        break;
      case 5:
        // Constant nodes carry their tensor here; external data of an attribute tensor is not supported.
        a.t = decodeTensor(r.message(`${p}.t`, k), {});
        break;
      case 7:
        r.repeatedFixed(k, 4, `${p}.floats`, floats);
        break;
      case 8:
        r.repeatedVarint(k, `${p}.ints`, ints);
        break;
      default:
        // g, graphs, tensors, strings, sparse tensors, type protos: skipped unread (no op hashguard maps uses them).
        r.skip(k, `${p}.#${k.field}`);
    }
  }
  if (floats.length) {
    const out = new Float32Array(fixedCount(floats, 4));
    fillFixed(floats, 4, out);
    a.floats = [...out];
  }
  if (ints.length) a.ints = ints;
  return a;
}

function decodeValueInfo(r: ProtoReader): OnnxValueInfo {
  const p = r.path;
  const v: OnnxValueInfo = { name: '', elemType: 0, dims: null };
  for (let k = r.key(); k; k = r.key()) {
    if (k.field === 1) {
      v.name = r.string(`${p}.name`, k);
    } else if (k.field === 2) {
      const t = r.message(`${p}.type`, k);
      for (let tk = t.key(); tk; tk = t.key()) {
        // TypeProto.tensor_type = 1; sequences, maps and optionals are skipped (dims stay null).
        if (tk.field === 1) {
          t.expect(tk, [WIRE.len], `${p}.type.tensor_type`);
          decodeTensorType(t.message(`${p}.type.tensor_type`), v);
        } else t.skip(tk, `${p}.type.#${tk.field}`);
      }
    } else r.skip(k, `${p}.#${k.field}`);
  }
  return v;
}

function decodeTensorType(r: ProtoReader, v: OnnxValueInfo): void {
  const p = r.path;
  for (let k = r.key(); k; k = r.key()) {
    if (k.field === 1) {
      v.elemType = r.int32(`${p}.elem_type`, k);
    } else if (k.field === 2) {
      const s = r.message(`${p}.shape`, k);
      v.dims ??= [];
      for (let sk = s.key(); sk; sk = s.key()) {
        if (sk.field !== 1) {
          s.skip(sk, `${p}.shape.#${sk.field}`);
          continue;
        }
        const path = `${p}.shape.dim[${v.dims.length}]`;
        s.expect(sk, [WIRE.len], path);
        v.dims.push(decodeDim(s.message(path)));
      }
    } else r.skip(k, `${p}.#${k.field}`);
  }
}

function decodeDim(r: ProtoReader): OnnxDim {
  let dim: OnnxDim = null;
  for (let k = r.key(); k; k = r.key()) {
    if (k.field === 1) {
      const d = r.int64(`${r.path}.dim_value`, k);
      if (d < 0n || d > BigInt(MAX_DIM))
        r.fail(`dimension ${d} is outside [0, 2^31]`, `${r.path}.dim_value`);
      dim = Number(d);
    } else if (k.field === 2) {
      dim = r.string(`${r.path}.dim_param`, k);
    } else r.skip(k, `${r.path}.#${k.field}`);
  }
  return dim;
}

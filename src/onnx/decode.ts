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
        r.expect(k, [WIRE.varint], 'ir_version');
        model.irVersion = r.safeInt('ir_version');
        break;
      case 2:
        r.expect(k, [WIRE.len], 'producer_name');
        model.producerName = r.string('producer_name');
        break;
      case 3:
        r.expect(k, [WIRE.len], 'producer_version');
        model.producerVersion = r.string('producer_version');
        break;
      case 7:
        // A repeated singular message merges into the first (protobuf semantics).
        r.expect(k, [WIRE.len], 'graph');
        decodeGraph(r.message('graph'), model.graph, options);
        hasGraph = true;
        break;
      case 8: {
        const path = `opset_import[${model.opsetImport.length}]`;
        r.expect(k, [WIRE.len], path);
        model.opsetImport.push(decodeOpset(r.message(path)));
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
    if (k.field === 1)
      (r.expect(k, [WIRE.len], `${r.path}.domain`), (o.domain = r.string(`${r.path}.domain`)));
    else if (k.field === 2)
      (r.expect(k, [WIRE.varint], `${r.path}.version`),
        (o.version = r.safeInt(`${r.path}.version`)));
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
        r.expect(k, [WIRE.len], path);
        g.node.push(decodeNode(r.message(path)));
        break;
      }
      case 2:
        r.expect(k, [WIRE.len], `${p}.name`);
        g.name = r.string(`${p}.name`);
        break;
      case 5: {
        const path = `${p}.initializer[${g.initializer.length}]`;
        r.expect(k, [WIRE.len], path);
        g.initializer.push(decodeTensor(r.message(path), options));
        break;
      }
      case 11:
      case 12: {
        const list = k.field === 11 ? g.input : g.output;
        const path = `${p}.${k.field === 11 ? 'input' : 'output'}[${list.length}]`;
        r.expect(k, [WIRE.len], path);
        list.push(decodeValueInfo(r.message(path)));
        break;
      }
      case 15: {
        // SparseTensorProto: values = 1 (a TensorProto whose name is the initializer's). Only the name is kept.
        const path = `${p}.sparse_initializer[${g.sparseInitializer.length}]`;
        r.expect(k, [WIRE.len], path);
        const s = r.message(path);
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
        r.expect(k, [WIRE.len], path);
        r.spend(1, path);
        list.push(r.string(path));
        break;
      }
      case 3:
        r.expect(k, [WIRE.len], `${p}.name`);
        n.name = r.string(`${p}.name`);
        break;
      case 4:
        r.expect(k, [WIRE.len], `${p}.op_type`);
        n.opType = r.string(`${p}.op_type`);
        break;
      case 5: {
        const path = `${p}.attribute[${n.attribute.length}]`;
        r.expect(k, [WIRE.len], path);
        n.attribute.push(decodeAttribute(r.message(path)));
        break;
      }
      case 7:
        r.expect(k, [WIRE.len], `${p}.domain`);
        n.domain = r.string(`${p}.domain`);
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
        r.expect(k, [WIRE.len], `${p}.name`);
        a.name = r.string(`${p}.name`);
        break;
      case 20:
        r.expect(k, [WIRE.varint], `${p}.type`);
        a.type = r.int32(`${p}.type`);
        break;
      case 2:
        r.expect(k, [WIRE.i32], `${p}.f`);
        a.f = r.float32(`${p}.f`);
        break;
      case 3:
        r.expect(k, [WIRE.varint], `${p}.i`);
        a.i = r.int64(`${p}.i`);
        break;
      case 4:
        r.expect(k, [WIRE.len], `${p}.s`);
        a.s = r.bytes(`${p}.s`);
        break;
      case 5:
        r.expect(k, [WIRE.len], `${p}.t`);
        // Constant nodes carry their tensor here; external data of an attribute tensor is not supported.
        a.t = decodeTensor(r.message(`${p}.t`), {});
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
      r.expect(k, [WIRE.len], `${p}.name`);
      v.name = r.string(`${p}.name`);
    } else if (k.field === 2) {
      r.expect(k, [WIRE.len], `${p}.type`);
      const t = r.message(`${p}.type`);
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
      r.expect(k, [WIRE.varint], `${p}.elem_type`);
      v.elemType = r.int32(`${p}.elem_type`);
    } else if (k.field === 2) {
      r.expect(k, [WIRE.len], `${p}.shape`);
      const s = r.message(`${p}.shape`);
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
      r.expect(k, [WIRE.varint], `${r.path}.dim_value`);
      const d = r.int64(`${r.path}.dim_value`);
      if (d < 0n || d > BigInt(MAX_DIM))
        r.fail(`dimension ${d} is outside [0, 2^31]`, `${r.path}.dim_value`);
      dim = Number(d);
    } else if (k.field === 2) {
      r.expect(k, [WIRE.len], `${r.path}.dim_param`);
      dim = r.string(`${r.path}.dim_param`);
    } else r.skip(k, `${r.path}.#${k.field}`);
  }
  return dim;
}

// Writes the plain ONNX objects of onnx-model.ts as ModelProto bytes (the inverse of decode.ts for the fields
// hashguard uses). Tensor values go in raw_data, little-endian, as onnx.proto prescribes.
import { OnnxError } from './errors.ts';
import {
  AttrType,
  DataType,
  type OnnxAttribute,
  type OnnxGraph,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from './onnx-model.ts';
import { ProtoWriter } from './protobuf-writer.ts';

/** ModelProto bytes of `model`. */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const w = new ProtoWriter().int(1, model.irVersion);
  if (model.producerName) w.string(2, model.producerName);
  if (model.producerVersion) w.string(3, model.producerVersion);
  w.message(7, encodeGraph(model.graph));
  for (const o of model.opsetImport)
    w.message(8, new ProtoWriter().string(1, o.domain).int(2, o.version));
  return w.done();
}

function encodeGraph(g: OnnxGraph): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.node) w.message(1, encodeNode(n));
  w.string(2, g.name);
  for (const t of g.initializer) w.message(5, encodeTensor(t));
  for (const v of g.input) w.message(11, encodeValueInfo(v));
  for (const v of g.output) w.message(12, encodeValueInfo(v));
  return w;
}

function encodeNode(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.input) w.string(1, i);
  for (const o of n.output) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const a of n.attribute) w.message(5, encodeAttribute(a));
  if (n.domain) w.string(7, n.domain);
  return w;
}

function encodeAttribute(a: OnnxAttribute): ProtoWriter {
  const w = new ProtoWriter().string(1, a.name);
  if (a.f !== undefined) w.float(2, a.f);
  if (a.i !== undefined) w.int(3, a.i);
  if (a.s !== undefined) w.bytes(4, a.s);
  if (a.t !== undefined) w.message(5, encodeTensor(a.t));
  if (a.floats) for (const f of a.floats) w.float(7, f);
  if (a.ints) w.repeatedInts(8, a.ints);
  return w.int(20, a.type || inferAttrType(a));
}

function inferAttrType(a: OnnxAttribute): number {
  if (a.f !== undefined) return AttrType.FLOAT;
  if (a.i !== undefined) return AttrType.INT;
  if (a.s !== undefined) return AttrType.STRING;
  if (a.t !== undefined) return AttrType.TENSOR;
  if (a.floats) return AttrType.FLOATS;
  if (a.ints) return AttrType.INTS;
  throw new OnnxError(`attribute '${a.name}' has no value`);
}

/** A TensorProto with its values as raw_data (FLOAT, DOUBLE, INT32 or INT64). */
export function encodeTensor(t: OnnxTensor): ProtoWriter {
  const w = new ProtoWriter().repeatedInts(1, t.dims).int(2, t.dataType).string(8, t.name);
  const d = t.data;
  if (!d) throw new OnnxError(`tensor '${t.name}' has no data to write`);
  const raw = new Uint8Array(d.length * d.BYTES_PER_ELEMENT);
  const view = new DataView(raw.buffer);
  if (d instanceof Float32Array) d.forEach((v, i) => view.setFloat32(4 * i, v, true));
  else if (d instanceof Float64Array) d.forEach((v, i) => view.setFloat64(8 * i, v, true));
  else if (d instanceof Int32Array) d.forEach((v, i) => view.setInt32(4 * i, v, true));
  else d.forEach((v, i) => view.setBigInt64(8 * i, v, true));
  return w.bytes(9, raw);
}

function encodeValueInfo(v: OnnxValueInfo): ProtoWriter {
  const tensorType = new ProtoWriter().int(1, v.elemType || DataType.FLOAT);
  if (v.dims) {
    const shape = new ProtoWriter();
    for (const d of v.dims)
      shape.message(
        1,
        typeof d === 'number'
          ? new ProtoWriter().int(1, d)
          : typeof d === 'string'
            ? new ProtoWriter().string(2, d)
            : new ProtoWriter(),
      );
    tensorType.message(2, shape);
  }
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
}

// The subset of ONNX's ModelProto hashguard reads and writes, as plain objects (decode.ts fills them, encode.ts
// writes them), the enum values it uses, and the checked conversions of tensor values to numbers.
import { OnnxError } from './errors.ts';

/** TensorProto.DataType values (onnx.proto). */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
} as const;

/** Name of a data type number, for messages. */
export function dataTypeName(t: number): string {
  return Object.entries(DataType).find(([, v]) => v === t)?.[0] ?? `data type ${t}`;
}

/** AttributeProto.AttributeType values. */
export const AttrType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
} as const;

/** Values of a tensor hashguard can read: FLOAT, DOUBLE, INT32, INT64 (each in its own typed array). */
export type TensorValues = Float32Array | Float64Array | Int32Array | BigInt64Array;

/** A TensorProto: name, shape and row-major values. */
export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  /** null when the data type or layout is one hashguard does not read; `unsupported` then says which. */
  data: TensorValues | null;
  unsupported?: string;
}

export interface OnnxAttribute {
  name: string;
  /** AttrType; 0 when the file left it out (IR version 1 files). */
  type: number;
  f?: number;
  i?: bigint | number;
  s?: Uint8Array;
  t?: OnnxTensor;
  floats?: number[];
  ints?: (bigint | number)[];
}

export interface OnnxNode {
  name: string;
  opType: string;
  /** '' (or 'ai.onnx') is the standard operator set. */
  domain: string;
  /** Input value names; '' marks an omitted optional input. */
  input: string[];
  output: string[];
  attribute: OnnxAttribute[];
}

/** One dimension of a value's shape: a size, a symbolic name (dim_param) or null when neither is given. */
export type OnnxDim = number | string | null;

/** A ValueInfoProto of a tensor; `dims` is null when the file gives no shape (or the value is not a tensor). */
export interface OnnxValueInfo {
  name: string;
  elemType: number;
  dims: OnnxDim[] | null;
}

export interface OnnxGraph {
  name: string;
  node: OnnxNode[];
  initializer: OnnxTensor[];
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
  /** Names of sparse initializers (not read: a node that uses one is refused by name). */
  sparseInitializer: string[];
}

export interface OnnxModel {
  irVersion: number;
  opsetImport: { domain: string; version: number }[];
  producerName: string;
  producerVersion: string;
  graph: OnnxGraph;
}

/** Elements of a shape (1 for a scalar). */
export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** A tensor's values as float64; `where` names the node or tensor in errors. */
export function tensorFloats(t: OnnxTensor, where: string): Float64Array {
  const d = requireData(t, where);
  if (d instanceof BigInt64Array) return Float64Array.from(d, (v) => Number(v));
  return Float64Array.from(d);
}

/** A tensor's values as safe integers (INT32 or INT64 tensors only, as ONNX requires for shapes and axes). */
export function tensorInts(t: OnnxTensor, where: string): number[] {
  const d = requireData(t, where);
  if (d instanceof Int32Array) return [...d];
  if (!(d instanceof BigInt64Array))
    throw new OnnxError(
      `${where}: tensor '${t.name}' is ${dataTypeName(t.dataType)}, expected INT64 or INT32`,
    );
  return [...d].map((v) => {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER))
      throw new OnnxError(`${where}: tensor '${t.name}' holds ${v}, beyond ±2^53`);
    return Number(v);
  });
}

function requireData(t: OnnxTensor, where: string): TensorValues {
  if (!t.data)
    throw new OnnxError(
      `${where}: tensor '${t.name}': ${t.unsupported ?? 'no data'} (FLOAT, DOUBLE, INT32 and INT64 tensors are read)`,
    );
  return t.data;
}

/** An int attribute as a safe number. */
export function attrIntValue(v: bigint | number, where: string): number {
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (!Number.isSafeInteger(n)) throw new OnnxError(`${where}: integer ${v} is beyond ±2^53`);
  return n;
}

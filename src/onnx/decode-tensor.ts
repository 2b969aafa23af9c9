// Decodes one TensorProto: dims (each ≤ 2^31, at most 2^28 elements, checked before anything is allocated), the
// data type, and values from raw_data, the typed fields or an external file (through the caller's reader, its
// location refused when absolute or climbing out with '..'). FLOAT, DOUBLE, INT32 and INT64 are read.
import { OnnxError } from './errors.ts';
import { fillFixed, fixedCount, ProtoReader, WIRE } from './protobuf.ts';
import { DataType, dataTypeName, type OnnxTensor, type TensorValues } from './onnx-model.ts';

/** Largest dimension accepted (a larger one is refused before anything is allocated). */
export const MAX_DIM = 2 ** 31;
/** Most elements one tensor may hold: 2^28 (1 GiB as float32). */
export const MAX_TENSOR_ELEMENTS = 2 ** 28;

export interface DecodeOptions {
  /** Bytes of an external data file named by a tensor's `location`; without it external tensors are refused. */
  externalData?: (location: string) => Uint8Array;
}

const ELEMENT_BYTES: Record<number, 4 | 8> = {
  [DataType.FLOAT]: 4,
  [DataType.INT32]: 4,
  [DataType.INT64]: 8,
  [DataType.DOUBLE]: 8,
};

/** A TensorProto; values of a supported type are copied out only after every count and bound is checked. */
export function decodeTensor(r: ProtoReader, options: DecodeOptions): OnnxTensor {
  const p = r.path;
  const dimsRaw: bigint[] = [];
  const floatChunks: (number | Uint8Array)[] = [];
  const doubleChunks: (number | Uint8Array)[] = [];
  const int32s: bigint[] = [];
  const int64s: bigint[] = [];
  const external: Record<string, string> = {};
  let name = '',
    dataType = 0,
    location = 0,
    raw: Uint8Array | null = null,
    segmented = false;
  for (let k = r.key(); k; k = r.key()) {
    switch (k.field) {
      case 1:
        r.repeatedVarint(k, `${p}.dims`, dimsRaw);
        break;
      case 2:
        dataType = r.int32(`${p}.data_type`, k);
        break;
      case 3:
        segmented = true;
        r.skip(k, `${p}.segment`);
        break;
      case 4:
        r.repeatedFixed(k, 4, `${p}.float_data`, floatChunks);
        break;
      case 5:
        r.repeatedVarint(k, `${p}.int32_data`, int32s);
        break;
      case 7:
        r.repeatedVarint(k, `${p}.int64_data`, int64s);
        break;
      case 8:
        name = r.string(`${p}.name`, k);
        break;
      case 9:
        raw = r.bytes(`${p}.raw_data`, k);
        break;
      case 10:
        r.repeatedFixed(k, 8, `${p}.double_data`, doubleChunks);
        break;
      case 13: {
        const path = `${p}.external_data[${Object.keys(external).length}]`;
        const e = r.message(path, k);
        let key = '',
          value = '';
        for (let ek = e.key(); ek; ek = e.key()) {
          if (ek.field === 1 && ek.wire === WIRE.len) key = e.string(`${path}.key`);
          else if (ek.field === 2 && ek.wire === WIRE.len) value = e.string(`${path}.value`);
          else e.skip(ek, `${path}.#${ek.field}`);
        }
        external[key] = value;
        break;
      }
      case 14:
        location = r.int32(`${p}.data_location`, k);
        break;
      default:
        r.skip(k, `${p}.#${k.field}`);
    }
  }
  const where = name ? `${p} ('${name}')` : p;
  const dims = dimsRaw.map((d) => {
    if (d < 0n || d > BigInt(MAX_DIM))
      r.fail(`dimension ${d} is outside [0, 2^31]`, `${where}.dims`);
    return Number(d);
  });
  // The count is built up with an early exit, so a product of huge dims never overflows or allocates.
  let count = 1;
  for (const d of dims) {
    count *= d;
    if (count > MAX_TENSOR_ELEMENTS)
      r.fail(
        `shape [${dims.join(', ')}] has more than 2^28 elements (the per-tensor limit)`,
        `${where}.dims`,
      );
  }
  const tensor: OnnxTensor = { name, dims, dataType, data: null };
  const width = ELEMENT_BYTES[dataType];
  if (width === undefined) {
    tensor.unsupported = `data type ${dataTypeName(dataType)} is not supported${dataType === DataType.FLOAT16 ? ' (convert the model to float32)' : ''}`;
    return tensor;
  }
  if (segmented) {
    tensor.unsupported = 'segmented tensors (TensorProto.segment) are not supported';
    return tensor;
  }
  if (location === 1) raw = externalBytes(external, count * width, where, options);
  if (raw) {
    if (raw.length !== count * width)
      r.fail(
        `raw_data holds ${raw.length} bytes, shape [${dims.join(', ')}] of ${dataTypeName(dataType)} needs ${count * width}`,
        where,
      );
    tensor.data = fromRaw(raw, dataType, count);
    return tensor;
  }
  tensor.data = fromFields(dataType, count, { floatChunks, doubleChunks, int32s, int64s }, (got) =>
    r.fail(
      `holds ${got} values, shape [${dims.join(', ')}] needs ${count} (${dataTypeName(dataType)})`,
      where,
    ),
  );
  return tensor;
}

/** The bytes of an external tensor: location, offset and length keys, checked against the file read. */
function externalBytes(
  keys: Record<string, string>,
  want: number,
  where: string,
  options: DecodeOptions,
): Uint8Array {
  const location = keys.location;
  if (!location)
    throw new OnnxError(`${where}: data_location is EXTERNAL but no 'location' key is given`);
  // NOTE: the reader is the caller's (the CLI confines it to the model's folder); refusing escapes here as well
  // keeps a careless reader from following a hostile file out of that folder.
  if (/^([\\/]|[A-Za-z]:)/.test(location) || location.split(/[\\/]/).includes('..'))
    throw new OnnxError(
      `${where}: external data location '${location}' must be a relative path without '..'`,
    );
  if (!options.externalData)
    throw new OnnxError(
      `${where}: data is stored in the external file '${location}', and no external data reader was given`,
    );
  const int = (key: string, fallback: number): number => {
    const s = keys[key];
    if (s === undefined) return fallback;
    if (!/^\d{1,15}$/.test(s))
      throw new OnnxError(`${where}: external_data ${key} '${s}' is not an integer`);
    return Number(s);
  };
  let file: Uint8Array;
  try {
    file = options.externalData(location);
  } catch (e) {
    if (e instanceof OnnxError) throw e;
    throw new OnnxError(
      `${where}: cannot read external data '${location}': ${(e as Error).message}`,
    );
  }
  const offset = int('offset', 0);
  const length = int('length', want);
  if (offset + length > file.length)
    throw new OnnxError(
      `${where}: external data '${location}' offset ${offset} + length ${length} runs past its end (${file.length} bytes)`,
    );
  return file.subarray(offset, offset + length);
}

function fromRaw(raw: Uint8Array, dataType: number, count: number): TensorValues {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (dataType) {
    case DataType.FLOAT:
      return Float32Array.from({ length: count }, (_, i) => view.getFloat32(4 * i, true));
    case DataType.DOUBLE:
      return Float64Array.from({ length: count }, (_, i) => view.getFloat64(8 * i, true));
    case DataType.INT32:
      return Int32Array.from({ length: count }, (_, i) => view.getInt32(4 * i, true));
    default: {
      const out = new BigInt64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getBigInt64(8 * i, true);
      return out;
    }
  }
}

function fromFields(
  dataType: number,
  count: number,
  f: {
    floatChunks: (number | Uint8Array)[];
    doubleChunks: (number | Uint8Array)[];
    int32s: bigint[];
    int64s: bigint[];
  },
  mismatch: (got: number) => never,
): TensorValues {
  if (dataType === DataType.FLOAT || dataType === DataType.DOUBLE) {
    const [chunks, width] =
      dataType === DataType.FLOAT ? [f.floatChunks, 4 as const] : [f.doubleChunks, 8 as const];
    const got = fixedCount(chunks, width);
    if (got !== count) mismatch(got);
    const out = dataType === DataType.FLOAT ? new Float32Array(count) : new Float64Array(count);
    fillFixed(chunks, width, out);
    return out;
  }
  const ints = dataType === DataType.INT32 ? f.int32s : f.int64s;
  if (ints.length !== count) mismatch(ints.length);
  return dataType === DataType.INT32
    ? Int32Array.from(ints, (v) => Number(BigInt.asIntN(32, v)))
    : BigInt64Array.from(ints);
}

// The safetensors container (huggingface format), F32 only: a strict decoder that names the file and field
// of every defect, and an encoder whose bytes match the reference library's layout. Pure: no runtime APIs.
import { Tensor, shapeStr, sizeOf } from '../tensor/index.ts';

/** A model file that is missing, corrupt, truncated or inconsistent; `file` and `field` say where. */
export class ModelFileError extends Error {
  readonly file: string;
  readonly field: string;
  constructor(file: string, field: string, detail: string) {
    super(`${file}: ${field}: ${detail}`);
    this.name = 'ModelFileError';
    this.file = file;
    this.field = field;
  }
}

/** The reference library's limit; a bigger header is treated as corruption, not read. */
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';
const TENSOR_KEYS = new Set(['dtype', 'shape', 'data_offsets']);
// NOTE: Float32Array views use host byte order and safetensors is little-endian; every runtime we target
// is little-endian, but the DataView paths below keep a big-endian host correct.
const HOST_LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Decoded contents of a safetensors file. */
export type Safetensors = { tensors: Map<string, Tensor>; metadata: Record<string, string> };

/**
 * Serializes tensors as F32 safetensors: u64 LE header length N, N bytes of compact JSON padded with spaces
 * to a multiple of 8, then the data in the given order with contiguous offsets. f64 tensors are rounded
 * to f32. Given the reference library's order (dtype alignment desc, then name) the bytes equal its output.
 */
export function encodeSafetensors(
  tensors: Record<string, Tensor> | [string, Tensor][],
  metadata?: Record<string, string>,
): Uint8Array {
  const entries = Array.isArray(tensors) ? tensors : Object.entries(tensors);
  const seen = new Set<string>();
  // The header is built as text, not via an object, because JS objects move integer-like keys ("0") first.
  const parts: string[] = [];
  if (metadata !== undefined) {
    const meta = Object.entries(metadata).map(([k, v]) => {
      if (typeof v !== 'string')
        throw new Error(`encodeSafetensors: metadata "${k}" must be a string`);
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${meta.join(',')}}`);
  }
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === METADATA_KEY)
      throw new Error(`encodeSafetensors: "${METADATA_KEY}" is reserved, not a tensor name`);
    if (seen.has(name)) throw new Error(`encodeSafetensors: duplicate tensor name "${name}"`);
    seen.add(name);
    const end = offset + 4 * t.size;
    // Key order dtype, shape, data_offsets is the reference serializer's field order.
    parts.push(
      `${JSON.stringify(name)}:${JSON.stringify({ dtype: 'F32', shape: t.shape, data_offsets: [offset, end] })}`,
    );
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLen = Math.ceil(json.length / 8) * 8; // 8 + N stays a multiple of 8, so f32 data is aligned
  const out = new Uint8Array(8 + headerLen + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLen, true); // high u32 stays 0: headers are far below 4 GiB
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let at = 8 + headerLen;
  for (const [, t] of entries) {
    const f32 = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
    if (HOST_LE) out.set(new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength), at);
    else for (let i = 0; i < f32.length; i++) view.setFloat32(at + 4 * i, f32[i], true);
    at += f32.byteLength;
  }
  return out;
}

type Entry = { name: string; shape: number[]; begin: number; end: number };

/**
 * Parses a safetensors file strictly: header length and bounds, UTF-8 JSON object, `__metadata__` string map,
 * per tensor dtype F32 / shape / data_offsets, offsets contiguous from 0 (any key order), no trailing or
 * missing bytes. Throws ModelFileError naming `file` and the field. Data is copied into aligned arrays.
 */
export function decodeSafetensors(bytes: Uint8Array, file: string): Safetensors {
  const fail = (field: string, detail: string): never => {
    throw new ModelFileError(file, field, detail);
  };
  if (bytes.length < 8)
    fail(
      'header length',
      `file is ${bytes.length} bytes, shorter than the 8-byte header length (truncated)`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  if (hi !== 0 || lo > MAX_HEADER_BYTES) {
    fail(
      'header length',
      `${hi * 2 ** 32 + lo} bytes exceeds the ${MAX_HEADER_BYTES}-byte limit (corrupt header)`,
    );
  }
  const dataStart = 8 + lo;
  if (dataStart > bytes.length) {
    fail(
      'header length',
      `header claims ${lo} bytes but the file has only ${bytes.length - 8} after the length (truncated)`,
    );
  }
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart));
  } catch {
    fail('header', 'not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text); // trailing padding spaces are JSON whitespace
  } catch (e) {
    fail('header', `not valid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(header)) fail('header', 'expected a JSON object');
  const metadata = decodeMetadata((header as Record<string, unknown>)[METADATA_KEY], fail);

  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name !== METADATA_KEY) entries.push(decodeEntry(name, info, fail));
  }
  // Data order is given by offsets, not by JSON key order (which is not meaningful).
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  let prev = '';
  for (const e of entries) {
    if (e.begin < expected)
      fail(
        `tensor "${e.name}" data_offsets`,
        `[${e.begin}, ${e.end}] overlaps tensor "${prev}" (ends at ${expected})`,
      );
    if (e.begin > expected)
      fail(
        `tensor "${e.name}" data_offsets`,
        `starts at ${e.begin}, leaving a gap after byte ${expected}`,
      );
    expected = e.end;
    prev = e.name;
  }
  const dataLen = bytes.length - dataStart;
  if (dataLen < expected)
    fail('data', `header needs ${expected} data bytes, file has ${dataLen} (truncated)`);
  if (dataLen > expected)
    fail(
      'data',
      `${dataLen - expected} unexpected bytes after the last tensor (header needs ${expected})`,
    );

  // Map order = data order: the writer's order, which JSON.parse would not keep for names like "0".
  const tensors = new Map<string, Tensor>();
  for (const e of entries)
    tensors.set(
      e.name,
      new Tensor(e.shape, readF32(bytes, view, dataStart + e.begin, (e.end - e.begin) / 4)),
    );
  return { tensors, metadata };
}

/** Copies n little-endian f32 values at a possibly unaligned byte offset into a fresh aligned array. */
function readF32(bytes: Uint8Array, view: DataView, at: number, n: number): Float32Array {
  const out = new Float32Array(n);
  // NOTE: not bytes.slice(…).buffer: a Node Buffer (readFileSync's answer) slices as a view of its whole pool.
  if (HOST_LE) {
    new Uint8Array(out.buffer).set(bytes.subarray(at, at + 4 * n));
    return out;
  }
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(at + 4 * i, true);
  return out;
}

function decodeMetadata(
  raw: unknown,
  fail: (field: string, detail: string) => never,
): Record<string, string> {
  if (raw === undefined) return {};
  if (!isPlainObject(raw)) return fail(METADATA_KEY, 'expected an object of string values');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string')
      fail(`${METADATA_KEY}.${k}`, `expected a string, found ${describe(v)}`);
    out[k] = v as string;
  }
  return out;
}

function decodeEntry(
  name: string,
  info: unknown,
  fail: (field: string, detail: string) => never,
): Entry {
  const at = `tensor "${name}"`;
  if (!isPlainObject(info))
    return fail(at, `expected an object {dtype, shape, data_offsets}, found ${describe(info)}`);
  for (const k of Object.keys(info)) if (!TENSOR_KEYS.has(k)) fail(`${at} ${k}`, 'unknown field');
  const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
  if (dtype !== 'F32')
    fail(
      `${at} dtype`,
      `expected "F32", found ${describe(dtype)} (only float32 weights are supported)`,
    );
  if (!Array.isArray(shape) || !shape.every(isIndex)) {
    fail(`${at} shape`, `expected an array of non-negative integers, found ${describe(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
    fail(
      `${at} data_offsets`,
      `expected [begin, end] non-negative integers, found ${describe(offsets)}`,
    );
  }
  const [begin, end] = offsets as [number, number];
  const dims = shape as number[];
  const bytes = 4 * sizeOf(dims);
  if (!Number.isSafeInteger(bytes)) fail(`${at} shape`, `${shapeStr(dims)} is too large`);
  if (end < begin) fail(`${at} data_offsets`, `end ${end} is before begin ${begin}`);
  if (end - begin !== bytes) {
    fail(
      `${at} data_offsets`,
      `[${begin}, ${end}] spans ${end - begin} bytes but F32 shape ${shapeStr(dims)} needs ${bytes}`,
    );
  }
  return { name, shape: dims, begin, end };
}

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Short rendering of a bad value for error messages (bounded so a hostile header cannot flood logs). */
function describe(v: unknown): string {
  if (v === undefined) return 'nothing (field missing)';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

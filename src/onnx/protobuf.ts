// A bounded protobuf wire-format reader: varints of at most 10 bytes, wire types 0/1/2/5 only, every length checked
// against the bytes left before anything is sliced or allocated, a nesting limit and a file-wide element budget.
// It knows no schema: the ONNX decoder (decode.ts) names each field, so errors carry paths like graph.node[3].
import { ProtobufError } from './errors.ts';

/** The wire types proto3/proto2 files may use; 3 and 4 (groups) are deprecated and refused. */
export const WIRE = { varint: 0, i64: 1, len: 2, i32: 5 } as const;
export type WireType = (typeof WIRE)[keyof typeof WIRE];

const WIRE_NAMES: Record<number, string> = {
  0: 'varint',
  1: '64-bit',
  2: 'length-delimited',
  3: 'start-group',
  4: 'end-group',
  5: '32-bit',
};

/** Deepest message nesting read; ONNX's own schema needs 8 (model → graph → node → attribute → tensor → …). */
export const MAX_DEPTH = 32;
/**
 * Most repeated elements (messages, packed numbers, strings) one file may hold in total. Every element costs at
 * least one input byte, so this also caps the work; 2^28 is above any file under the CLI's 512 MB limit.
 */
export const MAX_ELEMENTS = 2 ** 28;

/** Shared by all readers of one file: elements left before the budget is spent. */
export interface ReadBudget {
  elements: number;
}

/** One field key: its number and wire type. */
export interface FieldKey {
  field: number;
  wire: WireType;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads one message's bytes; nested messages get their own reader (message()). Never reads past its slice. */
export class ProtoReader {
  private pos = 0;

  constructor(
    private readonly buf: Uint8Array,
    /** Field path of this message, for errors: 'graph.node[3]'. */
    readonly path: string,
    readonly depth = 0,
    readonly budget: ReadBudget = { elements: MAX_ELEMENTS },
  ) {
    if (depth > MAX_DEPTH) this.fail(`messages nested deeper than ${MAX_DEPTH} levels`, path);
  }

  /** Bytes not yet read. */
  get left(): number {
    return this.buf.length - this.pos;
  }

  fail(why: string, path: string = this.path): never {
    throw new ProtobufError(`${path || '(model)'}: ${why}`);
  }

  /** Spends `n` elements of the file's budget. */
  spend(n: number, path: string): void {
    this.budget.elements -= n;
    if (this.budget.elements < 0)
      this.fail(`more than ${MAX_ELEMENTS} repeated elements in the file`, path);
  }

  /** The next field key, or null at the end of the message. */
  key(): FieldKey | null {
    if (this.pos >= this.buf.length) return null;
    const at = this.pos;
    const k = this.varint(`${this.path}@${at}`);
    // Field numbers are 1 .. 2^29 - 1: a key above 2^32 is garbage, not a big field number.
    if (k >= 1n << 32n) this.fail(`field key ${k} at byte ${at} is out of range`);
    const field = Number(k >> 3n);
    const wire = Number(k & 7n);
    if (field === 0) this.fail(`field number 0 at byte ${at} is invalid`);
    if (wire === 3 || wire === 4)
      this.fail(
        `field ${field} at byte ${at} uses wire type ${wire} (${WIRE_NAMES[wire]}): protobuf groups are not supported`,
      );
    if (wire !== 0 && wire !== 1 && wire !== 2 && wire !== 5)
      this.fail(`field ${field} at byte ${at} has unknown wire type ${wire}`);
    return { field, wire: wire as WireType };
  }

  /**
   * Refuses a field whose wire type is not one of `allowed`. The typed readers below do this themselves when
   * given the field's key.
   */
  expect(key: FieldKey, allowed: readonly WireType[], path: string): void {
    if (!allowed.includes(key.wire))
      this.fail(
        `wire type ${key.wire} (${WIRE_NAMES[key.wire]}), expected ${allowed.map((w) => `${w} (${WIRE_NAMES[w]})`).join(' or ')}`,
        path,
      );
  }

  /** An unsigned varint of at most 10 bytes, as a BigInt (64 bits; the 10th byte may only carry bit 63). */
  varint(path: string = this.path): bigint {
    // Fast path: up to 4 bytes (28 bits) fit a number exactly.
    let lo = 0;
    for (let i = 0; i < 4; i++) {
      if (this.pos >= this.buf.length) this.fail('varint runs past the end', path);
      const b = this.buf[this.pos++];
      lo |= (b & 0x7f) << (7 * i);
      if (b < 0x80) return BigInt(lo >>> 0);
    }
    let v = BigInt(lo >>> 0);
    for (let i = 4; i < 10; i++) {
      if (this.pos >= this.buf.length) this.fail('varint runs past the end', path);
      const b = this.buf[this.pos++];
      if (i === 9 && b > 1) this.fail('varint overflows 64 bits', path);
      v |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) return v;
    }
    return this.fail('varint longer than 10 bytes', path);
  }

  /** A varint read as int64 (two's complement). */
  int64(path: string, key?: FieldKey): bigint {
    if (key) this.expect(key, [WIRE.varint], path);
    return BigInt.asIntN(64, this.varint(path));
  }

  /** A varint read as int32 (protobuf truncates to the low 32 bits). */
  int32(path: string, key?: FieldKey): number {
    if (key) this.expect(key, [WIRE.varint], path);
    return Number(BigInt.asIntN(32, this.varint(path)));
  }

  /** An int64 that must be a safe JS integer (|v| < 2^53). */
  safeInt(path: string, key?: FieldKey): number {
    if (key) this.expect(key, [WIRE.varint], path);
    const v = this.int64(path);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER))
      this.fail(`integer ${v} is beyond ±2^53`, path);
    return Number(v);
  }

  private need(n: number, path: string): void {
    if (n > this.left)
      this.fail(`${n}-byte value runs past the end (${this.left} bytes left)`, path);
  }

  /** A little-endian float32 (wire type 5). */
  float32(path: string, key?: FieldKey): number {
    if (key) this.expect(key, [WIRE.i32], path);
    this.need(4, path);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  /** A little-endian float64 (wire type 1). */
  float64(path: string): number {
    this.need(8, path);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  /** A length-delimited payload as a view into the input (no copy); the length is checked first. */
  bytes(path: string, key?: FieldKey): Uint8Array {
    if (key) this.expect(key, [WIRE.len], path);
    const n = this.varint(path);
    if (n > BigInt(this.left))
      this.fail(`length ${n} runs past the end (${this.left} bytes left)`, path);
    const len = Number(n);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  /** A length-delimited UTF-8 string. */
  string(path: string, key?: FieldKey): string {
    if (key) this.expect(key, [WIRE.len], path);
    const b = this.bytes(path);
    try {
      return utf8.decode(b);
    } catch {
      return this.fail('string is not valid UTF-8', path);
    }
  }

  /** A nested message: a reader over its bytes, one level deeper, sharing the budget. */
  message(path: string, key?: FieldKey): ProtoReader {
    if (key) this.expect(key, [WIRE.len], path);
    const b = this.bytes(path);
    this.spend(1, path);
    return new ProtoReader(b, path, this.depth + 1, this.budget);
  }

  /** Skips a field of an unknown number (its wire type says how far). */
  skip(key: FieldKey, path: string): void {
    if (key.wire === WIRE.varint) this.varint(path);
    else if (key.wire === WIRE.i64) (this.need(8, path), (this.pos += 8));
    else if (key.wire === WIRE.i32) (this.need(4, path), (this.pos += 4));
    else this.bytes(path);
  }

  /**
   * A repeated varint field: one value (unpacked, wire 0) or a packed run (wire 2), pushed onto `out` as int64.
   * Packed runs spend one budget element per value.
   */
  repeatedVarint(key: FieldKey, path: string, out: bigint[]): void {
    this.expect(key, [WIRE.varint, WIRE.len], path);
    if (key.wire === WIRE.varint) {
      this.spend(1, path);
      out.push(this.int64(path));
      return;
    }
    const packed = new ProtoReader(this.bytes(path), path, this.depth + 1, this.budget);
    while (packed.left > 0) {
      this.spend(1, path);
      out.push(packed.int64(path));
    }
  }

  /**
   * A repeated fixed-width field (float: 4 bytes, wire 5; double: 8 bytes, wire 1), unpacked or packed. Values go
   * to `out` as numbers, or as a view of the packed bytes (decoded later, after the element count is known).
   */
  repeatedFixed(key: FieldKey, width: 4 | 8, path: string, out: (number | Uint8Array)[]): void {
    const single = width === 4 ? WIRE.i32 : WIRE.i64;
    this.expect(key, [single, WIRE.len], path);
    if (key.wire === single) {
      this.spend(1, path);
      out.push(width === 4 ? this.float32(path) : this.float64(path));
      return;
    }
    const b = this.bytes(path);
    if (b.length % width !== 0)
      this.fail(`packed run of ${b.length} bytes is not a multiple of ${width}`, path);
    this.spend(b.length / width, path);
    out.push(b);
  }
}

/** Total count of values in chunks collected by repeatedFixed. */
export function fixedCount(chunks: readonly (number | Uint8Array)[], width: 4 | 8): number {
  let n = 0;
  for (const c of chunks) n += typeof c === 'number' ? 1 : c.length / width;
  return n;
}

/** Decodes chunks collected by repeatedFixed into `out` (its length is the total count). */
export function fillFixed(
  chunks: readonly (number | Uint8Array)[],
  width: 4 | 8,
  out: Float32Array | Float64Array,
): void {
  let i = 0;
  for (const c of chunks) {
    if (typeof c === 'number') {
      out[i++] = c;
      continue;
    }
    const view = new DataView(c.buffer, c.byteOffset, c.byteLength);
    for (let o = 0; o < c.length; o += width)
      out[i++] = width === 4 ? view.getFloat32(o, true) : view.getFloat64(o, true);
  }
}

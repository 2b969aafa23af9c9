// The protobuf wire-format writer the ONNX encoder uses: varints (negative int64 as 10 bytes, as protobuf does),
// fixed32 floats, length-delimited bytes and nested messages, packed repeated numbers. Grows one buffer.
import { WIRE } from './protobuf.ts';

const utf8 = new TextEncoder();

/** Appends fields to a growing buffer; done() returns the bytes written so far. */
export class ProtoWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** An unsigned varint; a negative value is written as its 64-bit two's complement (10 bytes). */
  varint(v: number | bigint): this {
    let x = BigInt.asUintN(64, BigInt(v));
    this.reserve(10);
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x > 0n) b |= 0x80;
      this.buf[this.len++] = b;
    } while (x > 0n);
    return this;
  }

  key(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }

  /** A varint field (int32, int64, enum). */
  int(field: number, v: number | bigint): this {
    return this.key(field, WIRE.varint).varint(v);
  }

  /** A float field (fixed32, little-endian). */
  float(field: number, v: number): this {
    this.key(field, WIRE.i32);
    this.reserve(4);
    new DataView(this.buf.buffer).setFloat32(this.len, v, true);
    this.len += 4;
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.key(field, WIRE.len).varint(data.length);
    this.reserve(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, utf8.encode(s));
  }

  /** A nested message: its bytes, length-prefixed. */
  message(field: number, w: ProtoWriter): this {
    return this.bytes(field, w.done());
  }

  /** An unpacked repeated varint field (proto2's default for ONNX's dims and ints): one key per value. */
  repeatedInts(field: number, values: readonly (number | bigint)[]): this {
    for (const v of values) this.int(field, v);
    return this;
  }

  /** A packed repeated varint field (ONNX's int64_data). Nothing is written for an empty list. */
  packedInts(field: number, values: readonly (number | bigint)[]): this {
    if (!values.length) return this;
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    return this.message(field, inner);
  }

  /** A packed repeated float field. Nothing is written for an empty list. */
  packedFloats(field: number, values: readonly number[]): this {
    if (!values.length) return this;
    const data = new Uint8Array(values.length * 4);
    const view = new DataView(data.buffer);
    values.forEach((v, i) => view.setFloat32(i * 4, v, true));
    return this.bytes(field, data);
  }

  done(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

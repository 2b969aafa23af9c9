// The bounded protobuf reader: varint limits, 64-bit values, wire types, lengths checked before slicing, nesting and
// element budgets, and that errors name the field path; plus writer → reader round trips.
import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { decodeOnnxModel, ProtobufError } from '../../src/onnx/index.ts';
import { ProtoReader, WIRE, MAX_DEPTH } from '../../src/onnx/protobuf.ts';
import { ProtoWriter } from '../../src/onnx/protobuf-writer.ts';

const reader = (bytes: number[] | Uint8Array, budget = 1000) =>
  new ProtoReader(Uint8Array.from(bytes), 'm', 0, { elements: budget });

function error(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ProtobufError);
    return (e as Error).message;
  }
  throw new Error('expected a ProtobufError');
}

describe('varints', () => {
  test('decode known encodings, up to 64 bits, as BigInt', () => {
    const cases: [number[], bigint][] = [
      [[0], 0n],
      [[1], 1n],
      [[0x7f], 127n],
      [[0x80, 0x01], 128n],
      [[0xac, 0x02], 300n],
      [[0x80, 0x80, 0x80, 0x80, 0x10], 1n << 32n],
      [[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], (1n << 64n) - 1n],
    ];
    for (const [bytes, v] of cases) expect(reader(bytes).varint()).toBe(v);
    // int64 reads the two's complement: -1 is ten bytes.
    expect(reader([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]).int64('i')).toBe(
      -1n,
    );
  });

  test('refuse a truncated varint, an 11th byte and bits beyond 64', () => {
    expect(error(() => reader([0x80, 0x80]).varint('m.dims'))).toBe(
      'm.dims: varint runs past the end',
    );
    expect(error(() => reader([...Array(10).fill(0xff), 0x01]).varint())).toBe(
      'm: varint overflows 64 bits',
    );
    expect(error(() => reader([...Array(9).fill(0x80), 0x02]).varint())).toBe(
      'm: varint overflows 64 bits',
    );
  });

  test('safeInt refuses values beyond ±2^53', () => {
    const w = new ProtoWriter().varint(2n ** 60n).done();
    expect(error(() => reader(w).safeInt('m.i'))).toBe(`m.i: integer ${2n ** 60n} is beyond ±2^53`);
  });

  test('writer → reader round trip of any int64', () => {
    fc.assert(
      fc.property(fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n), (v) => {
        expect(reader(new ProtoWriter().varint(v).done()).int64('v')).toBe(v);
      }),
    );
  });
});

describe('keys and wire types', () => {
  test('groups (3, 4) and unknown wire types (6, 7) are refused; field 0 too', () => {
    expect(error(() => reader([(1 << 3) | 3]).key())).toContain(
      'field 1 at byte 0 uses wire type 3 (start-group): protobuf groups are not supported',
    );
    expect(error(() => reader([(2 << 3) | 4]).key())).toContain('wire type 4 (end-group)');
    expect(error(() => reader([(2 << 3) | 6]).key())).toBe(
      'm: field 2 at byte 0 has unknown wire type 6',
    );
    expect(error(() => reader([7]).key())).toBe('m: field number 0 at byte 0 is invalid');
  });

  test('a known field with the wrong wire type names the field', () => {
    const bytes = new ProtoWriter().string(1, 'eight').done(); // ir_version (varint) written as bytes
    expect(error(() => decodeOnnxModel(bytes))).toBe(
      'ir_version: wire type 2 (length-delimited), expected 0 (varint)',
    );
  });

  test('fixed-width values and skipping every wire type', () => {
    const bytes = new ProtoWriter()
      .float(1, 1.5)
      .int(2, 7)
      .bytes(3, Uint8Array.of(1, 2, 3))
      .key(4, WIRE.i64)
      .done();
    const all = Uint8Array.from([...bytes, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]); // the double 1.0
    const r = reader(all);
    expect(r.key()).toEqual({ field: 1, wire: WIRE.i32 });
    expect(r.float32('f')).toBe(1.5);
    for (const field of [2, 3]) r.skip(r.key()!, `#${field}`);
    expect(r.key()).toEqual({ field: 4, wire: WIRE.i64 });
    expect(r.float64('d')).toBe(1);
    expect(r.key()).toBeNull();
  });
});

describe('lengths, nesting and budgets', () => {
  test('a length past the end is refused before slicing, with the bytes left', () => {
    expect(error(() => reader([0xff, 0xff, 0xff, 0xff, 0x07, 1, 2]).bytes('m.raw_data'))).toBe(
      'm.raw_data: length 2147483647 runs past the end (2 bytes left)',
    );
    // A 2^63 claim is compared as a BigInt, never converted to a bogus number.
    const huge = new ProtoWriter().varint(2n ** 63n).done();
    expect(error(() => reader(huge).bytes('b'))).toContain(
      'length 9223372036854775808 runs past the end',
    );
    expect(error(() => reader([4, 1, 2]).float32('f'))).toBe(
      'f: 4-byte value runs past the end (3 bytes left)',
    );
  });

  test('the path in a decoded model names the node and attribute', () => {
    // node[0] = { attribute[0] = <a 2^31-1 length claim> }
    const attr = Uint8Array.from([(5 << 3) | 2, 0xff, 0xff, 0xff, 0xff, 0x07, 1, 2, 3]);
    const graph = new ProtoWriter().bytes(1, new ProtoWriter().string(4, 'Relu').done());
    const bytes = new ProtoWriter()
      .message(7, new ProtoWriter().bytes(1, Uint8Array.from([...graph.done().slice(2), ...attr])))
      .done();
    expect(error(() => decodeOnnxModel(bytes))).toBe(
      'graph.node[0].attribute[0]: length 2147483647 runs past the end (3 bytes left)',
    );
  });

  test(`messages nested deeper than ${MAX_DEPTH} levels are refused`, () => {
    let inner = new ProtoWriter().int(1, 1);
    for (let i = 0; i < MAX_DEPTH + 2; i++) inner = new ProtoWriter().message(1, inner);
    let r = reader(inner.done());
    const msg = error(() => {
      for (;;) {
        r.key();
        r = r.message(`${r.path}.x`);
      }
    });
    expect(msg).toContain(`messages nested deeper than ${MAX_DEPTH} levels`);
  });

  test('packed and unpacked repeated values decode alike and spend the element budget', () => {
    const packed = new ProtoWriter().packedInts(1, [1, -2, 300]).done();
    const unpacked = new ProtoWriter().repeatedInts(1, [1, -2, 300]).done();
    for (const bytes of [packed, unpacked]) {
      const r = reader(bytes);
      const out: bigint[] = [];
      for (let k = r.key(); k; k = r.key()) r.repeatedVarint(k, 'ints', out);
      expect(out).toEqual([1n, -2n, 300n]);
    }
    const r = reader(packed, 2);
    expect(error(() => r.repeatedVarint(r.key()!, 'm.ints', []))).toContain(
      'm.ints: more than 268435456 repeated elements in the file',
    );
  });

  test('packed fixed-width runs must be a whole number of values', () => {
    const r = reader(new ProtoWriter().bytes(4, Uint8Array.of(0, 0, 0, 0, 0)).done());
    expect(error(() => r.repeatedFixed(r.key()!, 4, 'm.float_data', []))).toBe(
      'm.float_data: packed run of 5 bytes is not a multiple of 4',
    );
  });

  test('strings must be UTF-8', () => {
    expect(error(() => reader([2, 0xc3, 0x28]).string('m.name'))).toBe(
      'm.name: string is not valid UTF-8',
    );
  });
});

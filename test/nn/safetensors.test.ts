// safetensors container: exact round trip, byte parity with the reference library's layout, and one
// rejection case per structural defect (no sha256 layer here; that is model-file's job).
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { ModelFileError, decodeSafetensors, encodeSafetensors } from '../../src/nn/safetensors.ts';
import { Tensor, tensor } from '../../src/tensor/tensor.ts';

const FIXTURE = new URL('../fixtures/safetensors/python-layout.safetensors', import.meta.url);
const enc = new TextEncoder();

/** Builds a file from a raw header string (padded like the reference writer) and raw data bytes. */
function rawFile(header: string, data: Uint8Array | number = 0, pad = true): Uint8Array {
  let h = enc.encode(header);
  if (pad) {
    const padded = new Uint8Array(Math.ceil(h.length / 8) * 8).fill(0x20);
    padded.set(h);
    h = padded;
  }
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.length + d.length);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 8);
  out.set(d, 8 + h.length);
  return out;
}

function rejects(bytes: Uint8Array, ...parts: string[]): void {
  let err: unknown;
  try {
    decodeSafetensors(bytes, 'w.safetensors');
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ModelFileError);
  const msg = (err as Error).message;
  expect(msg.startsWith('w.safetensors: ')).toBe(true);
  for (const p of parts) expect(msg).toContain(p);
}

function bitsOf(t: Tensor): Uint32Array {
  return new Uint32Array(Float32Array.from(t.data).buffer);
}

describe('encode/decode round trip', () => {
  test('bit-exact for normals, -0, denormals, extremes, NaN payloads and Infinity', () => {
    const bits = new Uint32Array([
      0x3f800000, 0x80000000, 0x00000001, 0x807fffff, 0x7f7fffff, 0x7fc00001, 0xff800000,
      0x3dcccccd,
    ]);
    const special = new Tensor([2, 4], new Float32Array(bits.buffer));
    let s = 12345;
    const rand = new Float32Array(257).map(() => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return (s / 2 ** 32 - 0.5) * 10 ** ((s % 13) - 6);
    });
    const out = decodeSafetensors(
      encodeSafetensors({
        special,
        rand: new Tensor([257], rand),
        empty: tensor([], [0, 3]),
        scalar: tensor([7], []),
      }),
      'x',
    );
    expect([...out.tensors.keys()]).toEqual(['special', 'rand', 'empty', 'scalar']);
    expect([...bitsOf(out.tensors.get('special')!)]).toEqual([...bits]);
    expect(out.tensors.get('rand')!.data).toEqual(rand);
    expect(out.tensors.get('empty')!.shape).toEqual([0, 3]);
    expect(out.tensors.get('scalar')!.shape).toEqual([]);
    expect(out.tensors.get('scalar')!.item()).toBe(7);
    expect(out.metadata).toEqual({});
  });

  test('f64 tensors are stored rounded to f32; metadata and integer-like names keep their order', () => {
    const bytes = encodeSafetensors(
      [
        ['b', tensor([0.1, 1 / 3], [2], 'f64')],
        ['0', tensor([1])],
      ],
      { format: 'pt', '1': 'x' },
    );
    const out = decodeSafetensors(bytes, 'x');
    expect(out.tensors.get('b')!.data).toEqual(new Float32Array([0.1, 1 / 3]));
    expect(out.tensors.get('b')!.data).toBeInstanceOf(Float32Array);
    expect([...out.tensors.keys()]).toEqual(['b', '0']);
    expect(out.metadata).toEqual({ format: 'pt', '1': 'x' });
  });

  test('header is padded with spaces so the data starts on a multiple of 8', () => {
    for (const name of ['a', 'ab', 'abc', 'abcd', 'abcde', 'abcdef', 'abcdefg', 'abcdefgh']) {
      const bytes = encodeSafetensors({ [name]: tensor([1, 2]) });
      const n = new DataView(bytes.buffer).getUint32(0, true);
      expect((8 + n) % 8).toBe(0);
      const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
      expect(header).toMatch(/^\{.*\} *$/);
      expect(header.trimEnd().length).toBeGreaterThan(n - 8);
    }
  });

  test('decodes from an unaligned, offset view and returns aligned copies', () => {
    const bytes = encodeSafetensors({ w: tensor([1, 2, 3]) });
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const t = decodeSafetensors(shifted.subarray(3), 'x').tensors.get('w')!;
    expect(t.data).toEqual(new Float32Array([1, 2, 3]));
    shifted.fill(0); // the tensor must not alias the input
    expect(t.data[2]).toBe(3);
  });

  test('encoder rejects duplicate and reserved names', () => {
    expect(() =>
      encodeSafetensors([
        ['a', tensor([1])],
        ['a', tensor([2])],
      ]),
    ).toThrow('duplicate tensor name "a"');
    expect(() => encodeSafetensors({ __metadata__: tensor([1]) })).toThrow('reserved');
  });
});

describe('reference library layout', () => {
  test('encoder reproduces the reference library unit-test bytes (attn0, [1,1,2,3])', () => {
    // safetensors/src/tensor.rs test_serialization_forced_alignement: 65-byte JSON + 7 spaces, then data.
    const json = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
    const expected = rawFile(json, new Uint8Array(new Float32Array([0, 1, 2, 3, 4, 5]).buffer));
    expect(expected.length).toBe(8 + 72 + 24);
    expect(encodeSafetensors({ attn0: tensor([0, 1, 2, 3, 4, 5], [1, 1, 2, 3]) })).toEqual(
      expected,
    );
  });

  test('python-layout fixture loads with exact values', () => {
    const bytes = new Uint8Array(readFileSync(FIXTURE));
    const { tensors, metadata } = decodeSafetensors(bytes, 'python-layout.safetensors');
    expect(metadata).toEqual({ format: 'pt' });
    // Data order is the library's sorted order, not the script's insertion order.
    expect([...tensors.keys()]).toEqual(['fc1.bias', 'fc1.weight', 'fc2.weight', 'temperature']);
    const f = (xs: number[]) => new Float32Array(xs.map(Math.fround));
    expect(tensors.get('fc1.bias')!.shape).toEqual([3]);
    expect(tensors.get('fc1.bias')!.data).toEqual(f([1, -1, 0.5]));
    expect(tensors.get('fc1.weight')!.shape).toEqual([3, 2]);
    expect(tensors.get('fc1.weight')!.data).toEqual(f([0.25, -0.75, 2, -3.5, 1e-7, 65504]));
    expect(tensors.get('fc2.weight')!.shape).toEqual([2, 3]);
    expect(tensors.get('fc2.weight')!.data).toEqual(f([0.1, -0.2, 0.3, -0, 1e-40, 3e38]));
    expect(Object.is(tensors.get('fc2.weight')!.data[3], -0)).toBe(true);
    expect(tensors.get('temperature')!.shape).toEqual([]);
    expect(tensors.get('temperature')!.item()).toBe(1.5);
  });

  test('encoder given the library order reproduces the fixture byte for byte', () => {
    const bytes = new Uint8Array(readFileSync(FIXTURE));
    const { tensors } = decodeSafetensors(bytes, 'x');
    const sorted = [...tensors.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
    expect(encodeSafetensors(sorted, { format: 'pt' })).toEqual(bytes);
  });

  test('header keys in any order load; data order comes from offsets', () => {
    const data = new Uint8Array(new Float32Array([1, 2, 3]).buffer);
    const h =
      '{"b":{"data_offsets":[4,12],"shape":[2],"dtype":"F32"},"__metadata__":{},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    const { tensors } = decodeSafetensors(rawFile(h, data, false), 'x');
    expect([...tensors.keys()]).toEqual(['a', 'b']);
    expect(tensors.get('a')!.data).toEqual(new Float32Array([1]));
    expect(tensors.get('b')!.data).toEqual(new Float32Array([2, 3]));
  });
});

describe('rejects structural defects, naming file and field', () => {
  const ok = encodeSafetensors({ w: tensor([1, 2, 3, 4], [2, 2]), b: tensor([5, 6]) });
  const entry = (dtype: string, shape: string, offsets: string) =>
    `{"w":{"dtype":${dtype},"shape":${shape},"data_offsets":${offsets}}}`;

  test('file shorter than the length prefix', () => {
    rejects(new Uint8Array(5), 'header length', 'shorter than the 8-byte', 'truncated');
  });

  test('header length beyond the file or the 100 MB limit', () => {
    const big = ok.slice();
    new DataView(big.buffer).setUint32(0, 200_000_000, true);
    rejects(big, 'header length', 'exceeds');
    new DataView(big.buffer).setUint32(4, 1, true);
    rejects(big, 'header length', 'exceeds');
    const past = ok.slice();
    new DataView(past.buffer).setUint32(0, ok.length, true);
    rejects(past, 'header length', 'truncated');
  });

  test('header not UTF-8, not JSON, not an object', () => {
    rejects(
      rawFile('{"w":"\xff"}').map((b, i) => (i === 14 ? 0xff : b)),
      'header',
      'UTF-8',
    );
    rejects(rawFile('{"w": {'), 'header', 'not valid JSON');
    rejects(rawFile('[1,2]'), 'header', 'expected a JSON object');
  });

  test('__metadata__ must be a string map', () => {
    rejects(rawFile('{"__metadata__":["pt"]}'), '__metadata__', 'string values');
    rejects(
      rawFile('{"__metadata__":{"epochs":3}}'),
      '__metadata__.epochs',
      'expected a string, found 3',
    );
  });

  test('wrong dtype names the tensor and the dtype found', () => {
    rejects(
      rawFile(entry('"F16"', '[2]', '[0,4]'), 4),
      'tensor "w" dtype',
      'expected "F32", found "F16"',
    );
    rejects(rawFile('{"w":{"shape":[1],"data_offsets":[0,4]}}', 4), 'tensor "w" dtype', 'missing');
  });

  test('bad shape and offsets', () => {
    rejects(
      rawFile(entry('"F32"', '[2,-1]', '[0,8]'), 8),
      'tensor "w" shape',
      'non-negative integers',
    );
    rejects(rawFile(entry('"F32"', '[1.5]', '[0,8]'), 8), 'tensor "w" shape');
    rejects(rawFile(entry('"F32"', '[2]', '[0]'), 8), 'tensor "w" data_offsets', '[begin, end]');
    rejects(rawFile(entry('"F32"', '[2]', '[8,0]'), 8), 'tensor "w" data_offsets', 'before begin');
    rejects(
      rawFile(entry('"F32"', '[3]', '[0,8]'), 8),
      'tensor "w" data_offsets',
      'spans 8 bytes',
      'needs 12',
    );
    rejects(
      rawFile('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}}', 4),
      'tensor "w" extra',
      'unknown field',
    );
    rejects(rawFile('{"w":[1]}', 4), 'tensor "w"', 'expected an object');
  });

  test('overlapping and gap-leaving offsets', () => {
    const two = (a: string, b: string) =>
      `{"a":{"dtype":"F32","shape":[2],"data_offsets":${a}},"b":{"dtype":"F32","shape":[2],"data_offsets":${b}}}`;
    rejects(rawFile(two('[0,8]', '[4,12]'), 12), 'tensor "b" data_offsets', 'overlaps tensor "a"');
    rejects(rawFile(two('[0,8]', '[12,20]'), 20), 'tensor "b" data_offsets', 'gap after byte 8');
    rejects(rawFile(two('[4,12]', '[12,20]'), 20), 'tensor "a" data_offsets', 'gap after byte 0');
  });

  test('truncated or extra data bytes', () => {
    for (const cut of [1, 4, 7, 16]) rejects(ok.subarray(0, ok.length - cut), 'data', 'truncated');
    const extra = new Uint8Array(ok.length + 4);
    extra.set(ok);
    rejects(extra, 'data', '4 unexpected bytes');
  });

  test('every prefix of a valid file is rejected, never half-loaded', () => {
    for (let n = 0; n < ok.length; n++)
      expect(() => decodeSafetensors(ok.subarray(0, n), 'w')).toThrow(ModelFileError);
    expect(decodeSafetensors(ok, 'w').tensors.size).toBe(2);
  });
});

// The pure-TS inflate against node:zlib's deflate (every level and strategy, random and redundant data), its
// refusals (truncation, bad checksums and headers, corrupt blocks) and the output cap that stops bombs.
import { describe, expect, test } from 'bun:test';
import zlib from 'node:zlib';
import {
  adler32,
  inflateRawInto,
  InflateError,
  InflateOverflowError,
  zlibInflateInto,
} from '../../src/data/inflate.ts';
import { rng } from './png-fixtures.ts';

/** Test payloads: incompressible, few-symbol, periodic and long-run data of assorted sizes. */
function payloads(): Uint8Array[] {
  const r = rng(42);
  const out: Uint8Array[] = [new Uint8Array(0), Uint8Array.of(7)];
  for (const n of [1, 100, 4096, 70_000, 300_000]) {
    out.push(Uint8Array.from({ length: n }, () => Math.floor(r() * 256)));
    out.push(Uint8Array.from({ length: n }, () => Math.floor(r() * 3)));
    out.push(Uint8Array.from({ length: n }, (_, i) => (i % 251) ^ (i >> 9)));
    out.push(Uint8Array.from({ length: n }, (_, i) => (r() < 0.002 ? 255 : i >> 14)));
  }
  return out;
}

function inflate(z: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  expect(zlibInflateInto(z, out)).toBe(size);
  return out;
}

/** deflate as a plain Uint8Array (Buffer#slice would share memory, and these tests corrupt copies). */
const deflate = (data: Uint8Array, options: zlib.ZlibOptions = {}) =>
  new Uint8Array(zlib.deflateSync(data, options));

const errorOf = (f: () => unknown): Error => {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
};

describe('zlibInflateInto', () => {
  test('round-trips node:zlib deflateSync output at levels 0..9', () => {
    for (const data of payloads()) {
      for (let level = 0; level <= 9; level++) {
        const z = zlib.deflateSync(data, { level });
        expect(Buffer.from(inflate(z, data.length)).equals(Buffer.from(data))).toBe(true);
      }
    }
  });

  test('fixed-Huffman, Huffman-only and RLE strategies, and small windows', () => {
    const { Z_FIXED, Z_HUFFMAN_ONLY, Z_RLE } = zlib.constants;
    for (const data of payloads()) {
      for (const strategy of [Z_FIXED, Z_HUFFMAN_ONLY, Z_RLE]) {
        const z = zlib.deflateSync(data, { strategy, level: 9 });
        expect(Buffer.from(inflate(z, data.length)).equals(Buffer.from(data))).toBe(true);
      }
      const z = zlib.deflateSync(data, { windowBits: 9, memLevel: 1 });
      expect(Buffer.from(inflate(z, data.length)).equals(Buffer.from(data))).toBe(true);
    }
  });

  test('raw deflate with inflateRawInto reports where the stream ends', () => {
    const data = payloads()[10];
    const raw = zlib.deflateRawSync(data);
    const withTail = new Uint8Array(raw.length + 3);
    withTail.set(raw);
    const out = new Uint8Array(data.length);
    expect(inflateRawInto(withTail, 0, out)).toEqual({ written: data.length, end: raw.length });
    expect(Buffer.from(out).equals(Buffer.from(data))).toBe(true);
  });

  test('adler32 matches zlib (the trailer of its stream)', () => {
    for (const data of payloads()) {
      const z = zlib.deflateSync(data);
      expect(adler32(data)).toBe(
        new DataView(z.buffer, z.byteOffset, z.byteLength).getUint32(z.length - 4),
      );
    }
  });

  test('every truncation of a stream is an InflateError', () => {
    const data = payloads()[6];
    for (const level of [0, 1, 9]) {
      const z = zlib.deflateSync(data, { level });
      const step = Math.max(1, Math.floor(z.length / 400));
      for (let cut = 0; cut < z.length; cut += step) {
        const e = errorOf(() => zlibInflateInto(z.subarray(0, cut), new Uint8Array(data.length)));
        expect(e).toBeInstanceOf(InflateError);
        expect(e).not.toBeInstanceOf(InflateOverflowError);
      }
    }
  });

  test('a wrong adler32 or a bad header is refused', () => {
    const data = payloads()[3];
    const z = deflate(data);
    const bad = z.slice();
    bad[bad.length - 1] ^= 1;
    expect(errorOf(() => zlibInflateInto(bad, new Uint8Array(data.length))).message).toMatch(
      /adler32 mismatch/,
    );
    const method = z.slice();
    method[0] = (method[0] & 0xf0) | 7;
    expect(errorOf(() => zlibInflateInto(method, new Uint8Array(data.length))).message).toMatch(
      /not deflate/,
    );
    const check = z.slice();
    check[1] ^= 1;
    expect(errorOf(() => zlibInflateInto(check, new Uint8Array(data.length))).message).toMatch(
      /header check/,
    );
    const dict = zlib.deflateSync(data, { dictionary: Buffer.from('abc') });
    expect(errorOf(() => zlibInflateInto(dict, new Uint8Array(data.length))).message).toMatch(
      /preset dictionar/,
    );
    expect(errorOf(() => zlibInflateInto(new Uint8Array(1), new Uint8Array(1)))).toBeInstanceOf(
      InflateError,
    );
  });

  test('corrupt blocks: reserved type, stored length check, distance too far back', () => {
    // 0x78 0x9c, then one final block of type 3 (bits 1, 11).
    expect(
      errorOf(() => zlibInflateInto(Uint8Array.of(0x78, 0x9c, 0b111), new Uint8Array(4))).message,
    ).toMatch(/reserved block type/);
    // Final stored block, LEN = 1, NLEN = 0 (should be 0xfffe).
    expect(
      errorOf(() =>
        zlibInflateInto(Uint8Array.of(0x78, 0x9c, 0b001, 1, 0, 0, 0, 42), new Uint8Array(4)),
      ).message,
    ).toMatch(/stored block length/);
    // Final fixed block whose first symbol is a match (length 3 = code 257, 7 bits 0000001; distance 0):
    // bits LSB first: 1 (final), 10 (fixed: 1 then 0), 0000001, 00000.
    const bits = [1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0];
    const bytes = new Uint8Array(4);
    bits.forEach((b, i) => (bytes[i >> 3] |= b << (i & 7)));
    expect(
      errorOf(() => zlibInflateInto(Uint8Array.of(0x78, 0x9c, ...bytes), new Uint8Array(16)))
        .message,
    ).toMatch(/too far back/);
  });

  test('random corruption never escapes as anything but an InflateError', () => {
    const data = payloads()[14];
    const z = deflate(data);
    const r = rng(7);
    for (let trial = 0; trial < 300; trial++) {
      const bad = z.slice();
      for (let k = 0; k < 1 + (trial % 4); k++)
        bad[2 + Math.floor(r() * (bad.length - 2))] ^= 1 << Math.floor(r() * 8);
      try {
        zlibInflateInto(bad, new Uint8Array(data.length));
      } catch (e) {
        expect(e).toBeInstanceOf(InflateError);
      }
    }
  });
});

describe('adversarial block structure', () => {
  test('a megabyte of empty dynamic blocks (single-code tables) inflates to nothing, as zlib says, quickly', () => {
    const bits: number[] = [];
    const put = (v: number, n: number) => {
      for (let i = 0; i < n; i++) bits.push((v >> i) & 1);
    };
    const order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1];
    while (bits.length < 8 << 20) {
      put(0, 1);
      put(2, 2);
      put(0, 5);
      put(0, 5);
      put(14, 4); // not final, dynamic, 257 + 1 codes, 18 CL lengths
      for (const sym of order) put(sym === 18 || sym === 1 ? 1 : 0, 3); // code-length codes: 1 → '0', 18 → '1'
      put(1, 1);
      put(127, 7);
      put(1, 1);
      put(107, 7); // 18 × 2: 256 zero lengths
      put(0, 1);
      put(0, 1); // end-of-block and distance 0 get length 1
      put(0, 1); // the block's only symbol: end-of-block
    }
    put(1, 1);
    put(1, 2);
    put(0, 7); // final fixed block: end-of-block
    const raw = new Uint8Array(Math.ceil(bits.length / 8));
    bits.forEach((b, i) => (raw[i >> 3] |= b << (i & 7)));
    expect(zlib.inflateRawSync(raw).length).toBe(0);
    const t0 = performance.now();
    expect(inflateRawInto(raw, 0, new Uint8Array(8))).toEqual({ written: 0, end: raw.length });
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

describe('the output cap', () => {
  test('one byte short is an InflateOverflowError naming the capacity, for every block type', () => {
    for (const level of [0, 1, 9]) {
      for (const data of payloads().filter((d) => d.length > 1)) {
        const e = errorOf(() =>
          zlibInflateInto(zlib.deflateSync(data, { level }), new Uint8Array(data.length - 1)),
        );
        expect(e).toBeInstanceOf(InflateOverflowError);
        expect((e as InflateOverflowError).capacity).toBe(data.length - 1);
      }
    }
  });

  test('a 256 MiB zlib bomb stops at the cap, fast, having written only the buffer', () => {
    const bomb = zlib.deflateSync(new Uint8Array(256 << 20), { level: 9 });
    expect(bomb.length).toBeLessThan(300_000);
    const t0 = performance.now();
    const out = new Uint8Array(4096);
    expect(() => zlibInflateInto(bomb, out)).toThrow(InflateOverflowError);
    expect(performance.now() - t0).toBeLessThan(100);
  });
});

// The bounded PNG decoder: bit-exact against pngjs 7 (the decoder it replaces) on a generated corpus of every
// colour type × bit depth × interlace × tRNS, and its refusals: CRCs, truncation, missing chunks, the size
// limits from IHDR and image data that inflates past what the header implies.
import { describe, expect, test } from 'bun:test';
import pngjs from 'pngjs';
import zlib from 'node:zlib';
import { decodePng, PngError } from '../../src/data/png-decode.ts';
import { ImageLimitError } from '../../src/data/image-header.ts';
import {
  buildPng,
  ihdr,
  pngChunk,
  pngFile,
  pngScanlines,
  rng,
  type PngSpec,
} from './png-fixtures.ts';

const DEPTHS: Record<number, number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};
const SIZES: [number, number][] = [
  [1, 1],
  [2, 3],
  [7, 5],
  [13, 9],
  [33, 17],
  [64, 1],
  [1, 40],
];

/** pngjs's RGBA for the same bytes: the oracle. */
function oracle(bytes: Uint8Array): Uint8Array {
  const png = pngjs.PNG.sync.read(Buffer.from(bytes));
  return new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength);
}

/** Every valid (colour type, depth) × interlace × tRNS × size, with structured and random samples. */
function corpus(): { label: string; bytes: Uint8Array }[] {
  const out: { label: string; bytes: Uint8Array }[] = [];
  let seed = 1;
  for (const colorType of [0, 2, 3, 4, 6] as const) {
    for (const depth of DEPTHS[colorType]) {
      for (const interlace of [false, true]) {
        for (const trns of [false, true]) {
          if (trns && (colorType === 4 || colorType === 6)) continue; // tRNS is only defined for 0, 2 and 3
          for (const [width, height] of SIZES) {
            for (const random of [false, true]) {
              const max = 2 ** depth;
              // Structured samples hit every value and make the tRNS key colour occur; random ones test filters.
              const sample = random
                ? undefined
                : (x: number, y: number, c: number) => (x * 7 + y * 13 + c * 5 + x * y) % max;
              const key = (c: number) => (sample ? sample(0, 0, c) : 1 % max);
              const spec: PngSpec = {
                width,
                height,
                depth: depth as PngSpec['depth'],
                colorType,
                interlace,
                sample,
                seed: seed++,
                trns: !trns
                  ? undefined
                  : colorType === 3
                    ? [0, 77, 255].slice(0, Math.min(3, max))
                    : colorType === 0
                      ? [key(0)]
                      : [key(0), key(1), key(2)],
              };
              out.push({
                label: `type ${colorType} depth ${depth}${interlace ? ' adam7' : ''}${trns ? ' tRNS' : ''} ${width}×${height}${random ? ' random' : ''}`,
                bytes: buildPng(spec),
              });
            }
          }
        }
      }
    }
  }
  return out;
}

const errorOf = (f: () => unknown): Error => {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
};

describe('decodePng matches pngjs bit for bit', () => {
  test('every colour type × bit depth × interlace × tRNS, structured and random pixels', () => {
    const files = corpus();
    expect(files.length).toBeGreaterThan(400);
    const mismatched: string[] = [];
    for (const { label, bytes } of files) {
      const ours = decodePng(bytes),
        want = oracle(bytes);
      if (!Buffer.from(ours.rgba).equals(Buffer.from(want))) mismatched.push(label);
    }
    expect(mismatched).toEqual([]);
  });

  test('the tRNS key colour really occurs and turns pixels fully transparent (0, 0, 0, 0)', () => {
    const bytes = buildPng({
      width: 4,
      height: 1,
      depth: 16,
      colorType: 2,
      sample: (x, _y, c) => (x === 2 ? 1000 * (c + 1) : 60000),
      trns: [1000, 2000, 3000],
    });
    const { rgba } = decodePng(bytes);
    expect(Array.from(rgba.subarray(8, 12))).toEqual([0, 0, 0, 0]);
    expect(Array.from(rgba.subarray(0, 4))).toEqual([233, 233, 233, 255]); // round(60000·255/65535)
    expect(Array.from(rgba)).toEqual(Array.from(oracle(bytes)));
  });

  test('files pngjs itself wrote (8 and 16-bit grey, RGB, grey + alpha, RGBA)', () => {
    const r = rng(3);
    for (const colorType of [0, 2, 4, 6] as const) {
      for (const bitDepth of [8, 16] as const) {
        const png = new pngjs.PNG({
          width: 19,
          height: 11,
          colorType,
          bitDepth,
          inputHasAlpha: true,
        });
        for (let i = 0; i < png.data.length; i++) png.data[i] = Math.floor(r() * 256);
        const bytes = new Uint8Array(
          pngjs.PNG.sync.write(png, { colorType, bitDepth, inputHasAlpha: true }),
        );
        expect(Array.from(decodePng(bytes).rgba)).toEqual(Array.from(oracle(bytes)));
      }
    }
  });

  test('several IDAT chunks, stored (level 0) data and ancillary chunks (gAMA, tEXt) before IDAT', () => {
    const extra = [
      pngChunk('gAMA', Uint8Array.of(0, 0, 0xb1, 0x8f)),
      pngChunk('tEXt', new TextEncoder().encode('Comment\0hi')),
    ];
    for (const spec of [
      { width: 50, height: 30, depth: 8, colorType: 6, idatParts: 7, extra },
      { width: 50, height: 30, depth: 16, colorType: 2, interlace: true, idatParts: 3, level: 0 },
      {
        width: 21,
        height: 21,
        depth: 2,
        colorType: 3,
        interlace: true,
        idatParts: 5,
        trns: [10, 20],
      },
    ] as PngSpec[]) {
      const bytes = buildPng(spec);
      expect(Array.from(decodePng(bytes).rgba)).toEqual(Array.from(oracle(bytes)));
    }
  });

  test('each filter type alone', () => {
    for (let filter = 0; filter <= 4; filter++) {
      for (const depth of [1, 8, 16] as const) {
        const bytes = buildPng({
          width: 23,
          height: 9,
          depth,
          colorType: depth === 1 ? 0 : 6,
          filter,
        });
        expect(Array.from(decodePng(bytes).rgba)).toEqual(Array.from(oracle(bytes)));
      }
    }
  });
});

describe('decodePng refuses bad files', () => {
  const good = buildPng({ width: 9, height: 7, depth: 8, colorType: 2 });

  test('a CRC mismatch, in IHDR, IDAT or IEND, names the chunk', () => {
    for (const [at, type] of [
      [8 + 8 + 5, 'IHDR'],
      [good.length - 16, 'IDAT'],
      [good.length - 1, 'IEND'],
    ] as const) {
      const bad = good.slice();
      bad[at] ^= 0x10;
      const e = errorOf(() => decodePng(bad));
      expect(e).toBeInstanceOf(PngError);
      expect(e.message).toBe(`CRC mismatch in chunk "${type}"`);
    }
  });

  test('every truncation is a PngError', () => {
    for (let cut = 0; cut < good.length; cut++)
      expect(errorOf(() => decodePng(good.subarray(0, cut)))).toBeInstanceOf(PngError);
  });

  test('missing IHDR, IEND or IDAT; an unknown critical chunk; a second IHDR', () => {
    const idat = pngChunk(
      'IDAT',
      zlib.deflateSync(pngScanlines({ width: 2, height: 2, depth: 8, colorType: 0, filter: 0 })),
    );
    const head = pngChunk('IHDR', ihdr(2, 2, 8, 0)),
      end = pngChunk('IEND');
    expect(decodePng(pngFile([head, idat, end])).rgba.length).toBe(16);
    expect(errorOf(() => decodePng(pngFile([idat, end]))).message).toMatch(
      /^missing IHDR: the first chunk is "IDAT"/,
    );
    expect(errorOf(() => decodePng(pngFile([head, idat]))).message).toMatch(/^missing IEND/);
    expect(errorOf(() => decodePng(pngFile([head, end]))).message).toBe('no IDAT chunk');
    expect(
      errorOf(() => decodePng(pngFile([head, pngChunk('ABCD', Uint8Array.of(1)), idat, end])))
        .message,
    ).toBe('unsupported critical chunk "ABCD"');
    expect(decodePng(pngFile([head, pngChunk('abCD', Uint8Array.of(1)), idat, end])).width).toBe(2); // ancillary: skipped
    expect(errorOf(() => decodePng(pngFile([head, head, idat, end]))).message).toBe(
      'second IHDR chunk',
    );
    expect(errorOf(() => decodePng(new Uint8Array(8)))).toBeInstanceOf(PngError);
  });

  test('bad header fields, filter types, palettes and tRNS', () => {
    const png = (h: Uint8Array, chunks: Uint8Array[], raw: Uint8Array) =>
      pngFile([
        pngChunk('IHDR', h),
        ...chunks,
        pngChunk('IDAT', zlib.deflateSync(raw)),
        pngChunk('IEND'),
      ]);
    expect(errorOf(() => decodePng(png(ihdr(1, 1, 16, 3), [], new Uint8Array(3)))).message).toBe(
      'bit depth 16 is not allowed for colour type 3',
    );
    expect(errorOf(() => decodePng(png(ihdr(1, 1, 8, 5), [], new Uint8Array(2)))).message).toBe(
      'unsupported colour type 5',
    );
    const interlace2 = ihdr(1, 1, 8, 0);
    interlace2[12] = 2;
    expect(errorOf(() => decodePng(png(interlace2, [], new Uint8Array(2)))).message).toBe(
      'unsupported interlace method 2',
    );
    expect(
      errorOf(() => decodePng(png(ihdr(1, 2, 8, 0), [], Uint8Array.of(0, 9, 5, 9)))).message,
    ).toBe('unknown filter type 5 in row 1');
    expect(
      errorOf(() => decodePng(png(ihdr(1, 1, 8, 3), [], Uint8Array.of(0, 0)))).message,
    ).toMatch(/^missing PLTE/);
    const plte = pngChunk('PLTE', Uint8Array.of(1, 2, 3, 4, 5, 6));
    expect(
      Array.from(decodePng(png(ihdr(2, 1, 8, 3), [plte], Uint8Array.of(0, 1, 0))).rgba),
    ).toEqual([4, 5, 6, 255, 1, 2, 3, 255]);
    expect(
      errorOf(() => decodePng(png(ihdr(1, 1, 8, 3), [plte], Uint8Array.of(0, 2)))).message,
    ).toBe('palette index 2 is outside the 2-colour palette');
    expect(() => oracle(png(ihdr(1, 1, 8, 3), [plte], Uint8Array.of(0, 2)))).toThrow(); // pngjs refuses it too
    expect(
      errorOf(() =>
        decodePng(
          png(ihdr(1, 1, 8, 3), [pngChunk('tRNS', Uint8Array.of(0)), plte], Uint8Array.of(0, 0)),
        ),
      ).message,
    ).toBe('tRNS before PLTE');
    expect(
      errorOf(() =>
        decodePng(
          png(
            ihdr(1, 1, 8, 3),
            [plte, pngChunk('tRNS', Uint8Array.of(0, 0, 0))],
            Uint8Array.of(0, 0),
          ),
        ),
      ).message,
    ).toMatch(/more than the 2-colour palette/);
    expect(
      errorOf(() =>
        decodePng(png(ihdr(1, 1, 8, 0), [pngChunk('tRNS', Uint8Array.of(0))], Uint8Array.of(0, 0))),
      ).message,
    ).toMatch(/tRNS is 1 bytes/);
  });

  test('image data shorter than the header implies', () => {
    const raw = pngScanlines({ width: 5, height: 4, depth: 8, colorType: 0 });
    const bytes = pngFile([
      pngChunk('IHDR', ihdr(5, 4, 8, 0)),
      pngChunk('IDAT', zlib.deflateSync(raw.subarray(0, raw.length - 1))),
      pngChunk('IEND'),
    ]);
    expect(errorOf(() => decodePng(bytes)).message).toBe(
      'image data ends after 23 of the 24 bytes its header implies',
    );
  });
});

describe('decodePng bounds', () => {
  test('inflate output is capped at what IHDR implies, plain and Adam7', () => {
    // 16×16 grey 8-bit: 16 × 17 = 272 bytes plain; Adam7 passes (rows × (1 + row bytes)):
    // 2·3 + 2·3 + 2·5 + 4·5 + 4·9 + 8·9 + 8·17 = 286.
    for (const [interlace, expected] of [
      [0, 272],
      [1, 286],
    ] as const) {
      const idat = zlib.deflateSync(new Uint8Array(64 << 20));
      const bytes = pngFile([
        pngChunk('IHDR', ihdr(16, 16, 8, 0, interlace)),
        pngChunk('IDAT', idat),
        pngChunk('IEND'),
      ]);
      const t0 = performance.now();
      expect(errorOf(() => decodePng(bytes)).message).toBe(
        `PNG data inflates past the ${expected} bytes its header implies`,
      );
      expect(performance.now() - t0).toBeLessThan(200);
      // One byte more than the header implies is already too much.
      const over = pngFile([
        pngChunk('IHDR', ihdr(16, 16, 8, 0, interlace)),
        pngChunk('IDAT', zlib.deflateSync(new Uint8Array(expected + 1))),
        pngChunk('IEND'),
      ]);
      expect(errorOf(() => decodePng(over)).message).toBe(
        `PNG data inflates past the ${expected} bytes its header implies`,
      );
      const exact = pngFile([
        pngChunk('IHDR', ihdr(16, 16, 8, 0, interlace)),
        pngChunk('IDAT', zlib.deflateSync(new Uint8Array(expected))),
        pngChunk('IEND'),
      ]);
      expect(decodePng(exact).rgba.length).toBe(16 * 16 * 4);
    }
  });

  test('size limits are checked from IHDR before the image data is read', () => {
    // The IDAT is garbage: only a check made before inflating can give the limit error.
    const file = (w: number, h: number) =>
      pngFile([
        pngChunk('IHDR', ihdr(w, h, 8, 0)),
        pngChunk('IDAT', Uint8Array.of(1, 2, 3)),
        pngChunk('IEND'),
      ]);
    const big = errorOf(() => decodePng(file(1, 16_777_216)));
    expect(big).toBeInstanceOf(ImageLimitError);
    expect(big.message).toBe('PNG: PNG is 1×16777216, more than the 4194304-pixel limit');
    expect(errorOf(() => decodePng(file(9000, 2), { name: 'x.png' })).message).toBe(
      'x.png: PNG is 9000×2, wider than the 8192-pixel side limit',
    );
    expect(errorOf(() => decodePng(file(3, 4), { maxPixels: 11 }))).toBeInstanceOf(ImageLimitError);
    expect(errorOf(() => decodePng(file(3, 4), { maxSide: 3 })).message).toMatch(
      /taller than the 3-pixel side limit/,
    );
    expect(errorOf(() => decodePng(file(0, 4))).message).toMatch(/needs at least one pixel/);
  });
});

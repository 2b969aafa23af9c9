// A raw PNG writer for tests: any colour type, bit depth, filter, Adam7 interlacing, PLTE/tRNS and chunk
// layout, plus hand-made chunks, so decoder tests and image-bomb tests build every file they need (pngjs can
// only write 8/16-bit non-interlaced files). Uses node:zlib for deflate and CRC-32, independent of src/.
import zlib from 'node:zlib';

export const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/** One chunk: length, type, data, CRC-32 over type + data. */
export function pngChunk(type: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(12 + data.length),
    v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  v.setUint32(8 + data.length, zlib.crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** IHDR data. */
export function ihdr(
  width: number,
  height: number,
  depth: number,
  colorType: number,
  interlace = 0,
): Uint8Array {
  const d = new Uint8Array(13),
    v = new DataView(d.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  d.set([depth, colorType, 0, 0, interlace], 8);
  return d;
}

/** Signature + chunks, concatenated. */
export function pngFile(chunks: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const parts = [PNG_SIGNATURE, ...chunks];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

/** A small seeded PRNG (mulberry32) so fixtures are the same on every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface PngSpec {
  width: number;
  height: number;
  depth: 1 | 2 | 4 | 8 | 16;
  colorType: 0 | 2 | 3 | 4 | 6;
  interlace?: boolean;
  /** Sample c of pixel (x, y), in [0, 2^depth) (a palette index for colour type 3). Default: seeded random. */
  sample?: (x: number, y: number, c: number) => number;
  /** Filter type per row (0..4), or 'random' (default). */
  filter?: number | 'random';
  /** RGB triples for colour type 3 (default: seeded random, 2^depth entries). */
  palette?: number[][];
  /** tRNS data: alpha per palette entry (type 3), or the key sample(s) (types 0, 2). */
  trns?: number[];
  /** deflate level (default 6). */
  level?: number;
  /** Split the zlib stream over this many IDAT chunks (default 1). */
  idatParts?: number;
  /** Extra chunks placed before IDAT (e.g. gAMA, tEXt). */
  extra?: Uint8Array[];
  seed?: number;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c,
    pa = Math.abs(p - a),
    pb = Math.abs(p - b),
    pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** The filtered scanlines (filter byte + row) of one image, before deflate. */
export function pngScanlines(spec: PngSpec): Uint8Array {
  const { width, height, depth, colorType } = spec,
    channels = CHANNELS[colorType];
  const random = rng(spec.seed ?? 1);
  const max = colorType === 3 ? (spec.palette?.length ?? 1 << depth) : 2 ** depth;
  const sample = spec.sample ?? (() => Math.floor(random() * max));
  // Fix every sample first so the interlaced and plain layouts of one spec hold the same pixels.
  const samples = new Uint32Array(width * height * channels);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < channels; c++) samples[(y * width + x) * channels + c] = sample(x, y, c);
  const bitsPerPixel = channels * depth,
    bpp = Math.max(1, bitsPerPixel >> 3);
  const passes = spec.interlace ? ADAM7 : [[0, 0, 1, 1]];
  const out: number[] = [];
  for (const [x0, y0, dx, dy] of passes) {
    const pw = width > x0 ? Math.ceil((width - x0) / dx) : 0,
      ph = height > y0 ? Math.ceil((height - y0) / dy) : 0;
    if (!pw || !ph) continue;
    const rb = Math.ceil((pw * bitsPerPixel) / 8);
    let prev = new Uint8Array(rb);
    for (let py = 0; py < ph; py++) {
      const row = new Uint8Array(rb);
      for (let px = 0; px < pw; px++) {
        const x = x0 + px * dx,
          y = y0 + py * dy;
        for (let c = 0; c < channels; c++) {
          const v = samples[(y * width + x) * channels + c];
          if (depth === 16) {
            row[(px * channels + c) * 2] = v >> 8;
            row[(px * channels + c) * 2 + 1] = v & 255;
          } else if (depth === 8) row[px * channels + c] = v;
          else {
            const bit = (px * channels + c) * depth;
            row[bit >> 3] |= v << (8 - depth - (bit & 7));
          }
        }
      }
      const f =
        spec.filter === undefined || spec.filter === 'random'
          ? Math.floor(random() * 5)
          : spec.filter;
      out.push(f);
      for (let i = 0; i < rb; i++) {
        const a = i >= bpp ? row[i - bpp] : 0,
          b = prev[i],
          c = i >= bpp ? prev[i - bpp] : 0;
        const pred =
          f === 0 ? 0 : f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : paeth(a, b, c);
        out.push((row[i] - pred) & 255);
      }
      prev = row;
    }
  }
  return Uint8Array.from(out);
}

/** A complete PNG file for `spec`. */
export function buildPng(spec: PngSpec): Uint8Array<ArrayBuffer> {
  const random = rng((spec.seed ?? 1) ^ 0x5eed);
  const chunks = [
    pngChunk(
      'IHDR',
      ihdr(spec.width, spec.height, spec.depth, spec.colorType, spec.interlace ? 1 : 0),
    ),
    ...(spec.extra ?? []),
  ];
  if (spec.colorType === 3) {
    const pal =
      spec.palette ??
      Array.from({ length: 1 << spec.depth }, () =>
        [0, 0, 0].map(() => Math.floor(random() * 256)),
      );
    chunks.push(pngChunk('PLTE', Uint8Array.from(pal.flat())));
    if (spec.trns) chunks.push(pngChunk('tRNS', Uint8Array.from(spec.trns)));
  } else if (spec.trns) {
    const d = new Uint8Array(2 * spec.trns.length),
      v = new DataView(d.buffer);
    spec.trns.forEach((t, i) => v.setUint16(2 * i, t));
    chunks.push(pngChunk('tRNS', d));
  }
  const z = zlib.deflateSync(pngScanlines(spec), { level: spec.level ?? 6 });
  const parts = Math.max(1, spec.idatParts ?? 1),
    size = Math.ceil(z.length / parts);
  for (let i = 0; i < parts; i++)
    chunks.push(pngChunk('IDAT', z.subarray(i * size, Math.min(z.length, (i + 1) * size))));
  chunks.push(pngChunk('IEND'));
  return pngFile(chunks);
}

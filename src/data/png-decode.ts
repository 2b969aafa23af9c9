// PNG → 8-bit RGBA, bit-for-bit what pngjs 7 returned (every colour type and bit depth, PLTE, tRNS, all five
// filters, Adam7), but bounded: the size is checked from IHDR before any allocation and the image data is
// inflated into a buffer of exactly the size the header implies, so no PNG can inflate past it. Pure TS.
import { crc32 } from './crc32.ts';
import { checkImageLimits, DEFAULT_IMAGE_LIMITS, type ImageLimits } from './image-header.ts';
import { InflateOverflowError, zlibInflateInto } from './inflate.ts';

/** A malformed, truncated or unsupported PNG. */
export class PngError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PngError';
  }
}

/** Options of decodePng: size limits (default DEFAULT_IMAGE_LIMITS) and the name used by limit errors. */
export interface PngDecodeOptions extends Partial<ImageLimits> {
  name?: string;
}

/** Channels per pixel of each colour type (0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA). */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, readonly number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};

/** Adam7 passes as [xStart, yStart, xStep, yStep]. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

interface Pass {
  x0: number;
  y0: number;
  dx: number;
  dy: number;
  width: number;
  height: number;
  rowBytes: number;
}

interface Header {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlace: boolean;
}

const u32 = (b: Uint8Array, i: number) =>
  ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;

/** The sub-images stored in the data stream (one, or the non-empty Adam7 passes) and their row sizes. */
function passesOf(h: Header): Pass[] {
  const bitsPerPixel = CHANNELS[h.colorType] * h.depth;
  const rowBytes = (w: number) => Math.ceil((w * bitsPerPixel) / 8);
  if (!h.interlace)
    return [
      { x0: 0, y0: 0, dx: 1, dy: 1, width: h.width, height: h.height, rowBytes: rowBytes(h.width) },
    ];
  const passes: Pass[] = [];
  for (const [x0, y0, dx, dy] of ADAM7) {
    const width = h.width > x0 ? Math.ceil((h.width - x0) / dx) : 0;
    const height = h.height > y0 ? Math.ceil((h.height - y0) / dy) : 0;
    if (width > 0 && height > 0)
      passes.push({ x0, y0, dx, dy, width, height, rowBytes: rowBytes(width) });
  }
  return passes;
}

/** Undoes the per-row filters of one pass in place; `at` is the offset of its first filter byte. */
function unfilterPass(raw: Uint8Array, at: number, pass: Pass, bpp: number): void {
  const rb = pass.rowBytes,
    stride = rb + 1;
  for (let y = 0; y < pass.height; y++) {
    const row = at + y * stride + 1,
      filter = raw[row - 1];
    // The first row's "previous row" is all zeros: Up is then None, Average and Paeth reduce to Sub-like forms.
    const prev = y > 0 ? row - stride : -1;
    switch (filter) {
      case 0:
        break;
      case 1:
        for (let i = row + bpp, end = row + rb; i < end; i++) raw[i] += raw[i - bpp];
        break;
      case 2:
        if (prev >= 0) for (let i = 0; i < rb; i++) raw[row + i] += raw[prev + i];
        break;
      case 3:
        if (prev < 0) {
          for (let i = bpp; i < rb; i++) raw[row + i] += raw[row + i - bpp] >>> 1;
        } else {
          for (let i = 0; i < bpp && i < rb; i++) raw[row + i] += raw[prev + i] >>> 1;
          for (let i = bpp; i < rb; i++) raw[row + i] += (raw[row + i - bpp] + raw[prev + i]) >>> 1;
        }
        break;
      case 4:
        if (prev < 0) {
          // Paeth(a, 0, 0) = a.
          for (let i = row + bpp, end = row + rb; i < end; i++) raw[i] += raw[i - bpp];
        } else {
          // Paeth(0, b, 0) = b for the first pixel.
          for (let i = 0; i < bpp && i < rb; i++) raw[row + i] += raw[prev + i];
          for (let i = bpp; i < rb; i++) {
            const a = raw[row + i - bpp],
              b = raw[prev + i],
              c = raw[prev + i - bpp];
            const pa = b > c ? b - c : c - b,
              pb = a > c ? a - c : c - a,
              pab = a + b - c - c,
              pc = pab < 0 ? -pab : pab;
            raw[row + i] += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          }
        }
        break;
      default:
        throw new PngError(`unknown filter type ${filter} in row ${y}`);
    }
  }
}

/** Colour data that turns samples into RGBA: palette (RGBA per entry) and the tRNS key colour. */
interface Colours {
  palette: Uint8Array | null;
  paletteSize: number;
  key: number[] | null;
}

/**
 * Writes one unfiltered row of `count` pixels to `out`, starting at byte `o` and stepping `step` bytes.
 * Matches pngjs: samples of depth < 8 are rescaled ×255/(2^depth − 1), 16-bit ones to round(v·255/65535);
 * a grey or RGB pixel equal to the tRNS key becomes 0, 0, 0, 0 (colour included), compared before scaling.
 */
function writeRow(
  raw: Uint8Array,
  row: number,
  count: number,
  h: Header,
  c: Colours,
  out: Uint8Array,
  o: number,
  step: number,
): void {
  const { depth, colorType } = h,
    key = c.key;
  if (depth === 8) {
    switch (colorType) {
      case 0:
        for (let x = 0; x < count; x++, o += step) {
          const v = raw[row + x];
          if (key && v === key[0]) out[o] = out[o + 1] = out[o + 2] = out[o + 3] = 0;
          else {
            out[o] = out[o + 1] = out[o + 2] = v;
            out[o + 3] = 255;
          }
        }
        return;
      case 2:
        for (let x = 0, i = row; x < count; x++, o += step, i += 3) {
          const r = raw[i],
            g = raw[i + 1],
            b = raw[i + 2];
          if (key && r === key[0] && g === key[1] && b === key[2])
            out[o] = out[o + 1] = out[o + 2] = out[o + 3] = 0;
          else {
            out[o] = r;
            out[o + 1] = g;
            out[o + 2] = b;
            out[o + 3] = 255;
          }
        }
        return;
      case 4:
        for (let x = 0, i = row; x < count; x++, o += step, i += 2) {
          out[o] = out[o + 1] = out[o + 2] = raw[i];
          out[o + 3] = raw[i + 1];
        }
        return;
      case 6:
        if (step === 4) out.set(raw.subarray(row, row + 4 * count), o);
        else
          for (let x = 0, i = row; x < count; x++, o += step, i += 4) {
            out[o] = raw[i];
            out[o + 1] = raw[i + 1];
            out[o + 2] = raw[i + 2];
            out[o + 3] = raw[i + 3];
          }
        return;
    }
  }
  if (depth === 16) {
    const channels = CHANNELS[colorType];
    const s = (i: number) => ((((raw[i] << 8) | raw[i + 1]) + 128) / 257) | 0; // = floor(v·255/65535 + 0.5)
    const v16 = (i: number) => (raw[i] << 8) | raw[i + 1];
    for (let x = 0, i = row; x < count; x++, o += step, i += 2 * channels) {
      if (colorType === 0) {
        if (key && v16(i) === key[0]) out[o] = out[o + 1] = out[o + 2] = out[o + 3] = 0;
        else {
          out[o] = out[o + 1] = out[o + 2] = s(i);
          out[o + 3] = 255;
        }
      } else if (colorType === 2) {
        if (key && v16(i) === key[0] && v16(i + 2) === key[1] && v16(i + 4) === key[2])
          out[o] = out[o + 1] = out[o + 2] = out[o + 3] = 0;
        else {
          out[o] = s(i);
          out[o + 1] = s(i + 2);
          out[o + 2] = s(i + 4);
          out[o + 3] = 255;
        }
      } else if (colorType === 4) {
        out[o] = out[o + 1] = out[o + 2] = s(i);
        out[o + 3] = s(i + 2);
      } else {
        out[o] = s(i);
        out[o + 1] = s(i + 2);
        out[o + 2] = s(i + 4);
        out[o + 3] = s(i + 6);
      }
    }
    return;
  }
  // Depth 1, 2, 4 (grey) or 1, 2, 4, 8 (palette): packed samples, most significant bits first.
  const mask = (1 << depth) - 1,
    scale = 255 / mask;
  const { palette, paletteSize } = c;
  for (let x = 0; x < count; x++, o += step) {
    const bit = x * depth;
    const v = (raw[row + (bit >>> 3)] >>> (8 - depth - (bit & 7))) & mask;
    if (colorType === 3) {
      if (v >= paletteSize)
        throw new PngError(`palette index ${v} is outside the ${paletteSize}-colour palette`);
      out[o] = palette![4 * v];
      out[o + 1] = palette![4 * v + 1];
      out[o + 2] = palette![4 * v + 2];
      out[o + 3] = palette![4 * v + 3];
    } else if (key && v === key[0]) out[o] = out[o + 1] = out[o + 2] = out[o + 3] = 0;
    else {
      out[o] = out[o + 1] = out[o + 2] = v * scale;
      out[o + 3] = 255;
    }
  }
}

function parseHeader(data: Uint8Array): Header {
  const h: Header = {
    width: u32(data, 0),
    height: u32(data, 4),
    depth: data[8],
    colorType: data[9],
    interlace: data[12] === 1,
  };
  if (!(h.colorType in CHANNELS)) throw new PngError(`unsupported colour type ${h.colorType}`);
  if (!DEPTHS[h.colorType].includes(h.depth))
    throw new PngError(`bit depth ${h.depth} is not allowed for colour type ${h.colorType}`);
  if (data[10] !== 0) throw new PngError(`unsupported compression method ${data[10]}`);
  if (data[11] !== 0) throw new PngError(`unsupported filter method ${data[11]}`);
  if (data[12] > 1) throw new PngError(`unsupported interlace method ${data[12]}`);
  return h;
}

/**
 * Decodes PNG bytes to width × height RGBA. The size from IHDR is checked against the limits (an
 * ImageLimitError) before anything is allocated; chunk CRCs are verified; the image data must inflate to
 * exactly the bytes the header implies (more is refused as soon as it appears). Other problems: PngError.
 */
export function decodePng(
  bytes: Uint8Array,
  options: PngDecodeOptions = {},
): { width: number; height: number; rgba: Uint8Array } {
  const limits: ImageLimits = {
    maxPixels: options.maxPixels ?? DEFAULT_IMAGE_LIMITS.maxPixels,
    maxSide: options.maxSide ?? DEFAULT_IMAGE_LIMITS.maxSide,
  };
  const n = bytes.length;
  if (n < 8 || u32(bytes, 0) !== 0x89504e47 || u32(bytes, 4) !== 0x0d0a1a0a)
    throw new PngError('not a PNG (bad signature)');
  let header: Header | null = null,
    palette: Uint8Array | null = null,
    paletteSize = 0,
    key: number[] | null = null;
  const idat: Uint8Array[] = [];
  let idatBytes = 0,
    ended = false;
  for (let pos = 8; !ended;) {
    if (pos + 8 > n)
      throw new PngError(
        header
          ? 'missing IEND: the file ends without it (truncated?)'
          : 'missing IHDR: the file is truncated',
      );
    const length = u32(bytes, pos),
      type = String.fromCharCode(bytes[pos + 4], bytes[pos + 5], bytes[pos + 6], bytes[pos + 7]);
    if (length > 0x7fffffff)
      throw new PngError(`chunk ${JSON.stringify(type)} has a bad length ${length}`);
    if (pos + 12 + length > n)
      throw new PngError(
        `truncated: chunk ${JSON.stringify(type)} needs ${length + 12} bytes, ${n - pos} left`,
      );
    const data = bytes.subarray(pos + 8, pos + 8 + length);
    if (crc32(bytes, pos + 4, pos + 8 + length) !== u32(bytes, pos + 8 + length))
      throw new PngError(`CRC mismatch in chunk ${JSON.stringify(type)}`);
    pos += 12 + length;
    if (!header && type !== 'IHDR')
      throw new PngError(`missing IHDR: the first chunk is ${JSON.stringify(type)}`);
    switch (type) {
      case 'IHDR':
        if (header) throw new PngError('second IHDR chunk');
        if (length !== 13) throw new PngError(`IHDR is ${length} bytes, expected 13`);
        header = parseHeader(data);
        checkImageLimits(
          { format: 'png', width: header.width, height: header.height },
          limits,
          options.name ?? 'PNG',
        );
        break;
      case 'PLTE':
        if (header!.colorType !== 3) break; // a suggested palette of a true-colour image: ignored, as pngjs does
        if (palette) throw new PngError('second PLTE chunk');
        if (length === 0 || length % 3 !== 0 || length > 768)
          throw new PngError(`PLTE is ${length} bytes, not 3 × 1..256 entries`);
        paletteSize = length / 3;
        palette = new Uint8Array(4 * paletteSize);
        for (let i = 0; i < paletteSize; i++)
          palette.set([data[3 * i], data[3 * i + 1], data[3 * i + 2], 255], 4 * i);
        break;
      case 'tRNS':
        if (header!.colorType === 3) {
          if (!palette) throw new PngError('tRNS before PLTE');
          if (length > paletteSize)
            throw new PngError(
              `tRNS has ${length} entries, more than the ${paletteSize}-colour palette`,
            );
          for (let i = 0; i < length; i++) palette[4 * i + 3] = data[i];
        } else if (header!.colorType === 0) {
          if (length < 2)
            throw new PngError(`tRNS is ${length} bytes, expected 2 for a grey image`);
          key = [(data[0] << 8) | data[1]];
        } else if (header!.colorType === 2) {
          if (length < 6)
            throw new PngError(`tRNS is ${length} bytes, expected 6 for an RGB image`);
          key = [(data[0] << 8) | data[1], (data[2] << 8) | data[3], (data[4] << 8) | data[5]];
        }
        break;
      case 'IDAT':
        if (header!.colorType === 3 && !palette)
          throw new PngError('missing PLTE: a palette image needs it before IDAT');
        idat.push(data);
        idatBytes += length;
        break;
      case 'IEND':
        ended = true;
        break;
      default:
        // Bit 5 of the first letter clear (upper case) = critical: a decoder must not ignore it.
        if (!(type.charCodeAt(0) & 0x20))
          throw new PngError(`unsupported critical chunk ${JSON.stringify(type)}`);
    }
  }
  const h = header!;
  if (!idat.length) throw new PngError('no IDAT chunk');
  // The image data's exact size, from the header alone: rows × (filter byte + row bytes), summed over passes.
  const passes = passesOf(h);
  const expected = passes.reduce((s, p) => s + p.height * (1 + p.rowBytes), 0);
  let stream = idat[0];
  if (idat.length > 1) {
    stream = new Uint8Array(idatBytes);
    let at = 0;
    for (const part of idat) {
      stream.set(part, at);
      at += part.length;
    }
  }
  const raw = new Uint8Array(expected);
  let written: number;
  try {
    written = zlibInflateInto(stream, raw);
  } catch (e) {
    if (e instanceof InflateOverflowError)
      throw new PngError(`PNG data inflates past the ${expected} bytes its header implies`);
    throw new PngError(`bad image data: ${(e as Error).message}`);
  }
  if (written !== expected)
    throw new PngError(
      `image data ends after ${written} of the ${expected} bytes its header implies`,
    );

  const bpp = Math.max(1, (CHANNELS[h.colorType] * h.depth) >>> 3);
  const rgba = new Uint8Array(h.width * h.height * 4);
  const colours: Colours = { palette, paletteSize, key };
  let at = 0;
  for (const p of passes) {
    unfilterPass(raw, at, p, bpp);
    for (let y = 0; y < p.height; y++) {
      const o = 4 * ((p.y0 + y * p.dy) * h.width + p.x0);
      writeRow(raw, at + y * (p.rowBytes + 1) + 1, p.width, h, colours, rgba, o, 4 * p.dx);
    }
    at += p.height * (p.rowBytes + 1);
  }
  return { width: h.width, height: h.height, rgba };
}

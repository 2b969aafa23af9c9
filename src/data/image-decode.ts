// PNG and JPEG decoding to RGBA bytes (pngjs, jpeg-js: pure JS, so Bun, Deno and Node behave the same), with
// the format sniffed from magic bytes rather than the file name, and RGBA → CHW float conversion.
import { DatasetError } from './errors.ts';
import { BYTE_TO_UNIT } from './idx.ts';
import pngjs from 'pngjs';
import jpeg from 'jpeg-js';
import { Buffer } from 'node:buffer';

/** A decoded image: width × height RGBA bytes, row-major. */
export interface DecodedImage {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** Image formats decodeImage understands. */
export type ImageFormat = 'png' | 'jpeg';

/** Options of decodeImage. */
export interface DecodeOptions {
  /** Refuse images with more pixels than this before decoding them (default 4096×4096): bounds memory. */
  maxPixels?: number;
}

const DEFAULT_MAX_PIXELS = 4096 * 4096;
const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The format named by the first bytes (PNG signature or JPEG SOI + marker), or null. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 8 && PNG_MAGIC.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

function leadingHex(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ') || '(empty)';
}

function decodePng(bytes: Uint8Array, name: string, maxPixels: number): DecodedImage {
  // IHDR is the first chunk: width and height sit big-endian at offsets 16 and 20. Check them before
  // inflating so a tiny file cannot ask for gigabytes.
  if (bytes.length >= 24) {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const w = v.getUint32(16, false), h = v.getUint32(20, false);
    if (w * h > maxPixels) throw new DatasetError(name, `PNG is ${w}×${h}, more than the ${maxPixels}-pixel limit`);
  }
  try {
    // pngjs normalises every colour type and bit depth to 8-bit RGBA (16-bit is rescaled).
    const png = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    const rgba = new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength);
    if (rgba.length !== png.width * png.height * 4) throw new Error(`decoded ${rgba.length} bytes for ${png.width}×${png.height} RGBA`);
    return { width: png.width, height: png.height, rgba };
  } catch (err) {
    throw new DatasetError(name, `cannot decode PNG: ${(err as Error).message}`, { cause: err });
  }
}

function decodeJpeg(bytes: Uint8Array, name: string, maxPixels: number): DecodedImage {
  try {
    const img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      // Strict: a damaged dataset file should fail loudly, not decode to grey blocks.
      tolerantDecoding: false,
      maxResolutionInMP: maxPixels / 1e6,
      maxMemoryUsageInMB: 512,
    });
    return { width: img.width, height: img.height, rgba: img.data };
  } catch (err) {
    throw new DatasetError(name, `cannot decode JPEG: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Decodes PNG or JPEG bytes to RGBA, picking the decoder by magic bytes. `name` (a path or a label such as
 * 'request body') appears in every error: unknown format, corrupt data, or too many pixels.
 */
export function decodeImage(bytes: Uint8Array, name: string, options: DecodeOptions = {}): DecodedImage {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const format = sniffImageFormat(bytes);
  if (format === 'png') return decodePng(bytes, name, maxPixels);
  if (format === 'jpeg') return decodeJpeg(bytes, name, maxPixels);
  throw new DatasetError(name, `not a PNG or JPEG image (first bytes: ${leadingHex(bytes)})`);
}

/**
 * RGBA bytes → planar CHW float32 in [0, 1], dropping alpha (not composited, like PIL's convert).
 * channels 3: R, G, B planes, x/255. channels 1: ITU-R BT.601 luma Y = 0.299 R + 0.587 G + 0.114 B,
 * computed as (299 R + 587 G + 114 B) / 255000 so a grey pixel v maps to exactly v/255, as in MNIST.
 */
export function toChannels(rgba: Uint8Array, width: number, height: number, channels: 1 | 3): Float32Array {
  const n = width * height;
  if (rgba.length !== n * 4) throw new RangeError(`toChannels: ${rgba.length} bytes is not ${width}×${height} RGBA`);
  const out = new Float32Array(channels * n);
  if (channels === 3) {
    for (let i = 0; i < n; i++) {
      out[i] = BYTE_TO_UNIT[rgba[4 * i]];
      out[n + i] = BYTE_TO_UNIT[rgba[4 * i + 1]];
      out[2 * n + i] = BYTE_TO_UNIT[rgba[4 * i + 2]];
    }
  } else {
    for (let i = 0; i < n; i++) {
      out[i] = (299 * rgba[4 * i] + 587 * rgba[4 * i + 1] + 114 * rgba[4 * i + 2]) / 255000;
    }
  }
  return out;
}

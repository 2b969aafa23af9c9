// PNG and JPEG decoding to RGBA bytes, sniffed from magic bytes and bounded by the size in the header (checked
// before any decoder allocates), and RGBA → CHW float conversion, whole or one row at a time.
import jpeg from 'jpeg-js';
import { DatasetError } from './dataset-error.ts';
import { BYTE_TO_UNIT } from './idx.ts';
import { checkImageLimits, DEFAULT_IMAGE_LIMITS, readImageHeader } from './image-header.ts';
import { decodePng } from './png-decode.ts';

export { sniffImageFormat, type ImageFormat } from './image-header.ts';

/** A decoded image: width × height RGBA bytes, row-major. */
export interface DecodedImage {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** Options of decodeImage. */
export interface DecodeOptions {
  /** Refuse images with more pixels than this, from the header (default 4,194,304): bounds memory. */
  maxPixels?: number;
  /** Refuse images wider or taller than this, from the header (default 8192). */
  maxSide?: number;
}

// jpeg-js counts its own allocations: coefficient blocks (≤ 4 bytes per sample per component, 3 components
// for colour), component lines, output. 32 bytes per allowed pixel covers a 4:4:4 colour JPEG with room.
const JPEG_BYTES_PER_PIXEL = 32;

/**
 * Decodes PNG or JPEG bytes to RGBA, picking the decoder by magic bytes. Width and height are read from the
 * header first: an image over a limit is an ImageLimitError (a DatasetError) before anything is decoded.
 * `name` (a path or a label such as 'request body') starts every error message.
 */
export function decodeImage(
  bytes: Uint8Array,
  name: string,
  options: DecodeOptions = {},
): DecodedImage {
  const limits = {
    maxPixels: options.maxPixels ?? DEFAULT_IMAGE_LIMITS.maxPixels,
    maxSide: options.maxSide ?? DEFAULT_IMAGE_LIMITS.maxSide,
  };
  const header = readImageHeader(bytes, name);
  checkImageLimits(header, limits, name);
  if (header.format === 'png') {
    try {
      return decodePng(bytes, { ...limits, name });
    } catch (err) {
      if (err instanceof DatasetError) throw err;
      throw new DatasetError(name, `cannot decode PNG: ${(err as Error).message}`, { cause: err });
    }
  }
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      // Strict: a damaged dataset file should fail loudly, not decode to grey blocks.
      tolerantDecoding: false,
      maxResolutionInMP: limits.maxPixels / 1e6,
      maxMemoryUsageInMB: Math.ceil((limits.maxPixels * JPEG_BYTES_PER_PIXEL) / 2 ** 20) + 16,
    });
  } catch (err) {
    throw new DatasetError(name, `cannot decode JPEG: ${(err as Error).message}`, { cause: err });
  }
  // jpeg-js sizes its output from the frame it decodes: one that disagrees with the SOF admitted above is refused.
  if (img.width !== header.width || img.height !== header.height) {
    throw new DatasetError(
      name,
      `cannot decode JPEG: decoded ${img.width}×${img.height}, but its SOF header says ${header.width}×${header.height}`,
    );
  }
  return { width: img.width, height: img.height, rgba: img.data };
}

/**
 * Row y of an RGBA image as planar floats: `out[c · width + x]`, the same values toChannels gives. With
 * `invert`, each byte b is read as 255 − b, so the result is exactly the image's negative (v → 1 − v).
 */
export function channelsRow(
  rgba: Uint8Array,
  width: number,
  y: number,
  channels: 1 | 3,
  out: Float32Array,
  invert = false,
): void {
  const base = 4 * y * width,
    flip = invert ? 255 : 0;
  if (channels === 3) {
    for (let x = 0; x < width; x++) {
      const o = base + 4 * x;
      out[x] = BYTE_TO_UNIT[flip ^ rgba[o]];
      out[width + x] = BYTE_TO_UNIT[flip ^ rgba[o + 1]];
      out[2 * width + x] = BYTE_TO_UNIT[flip ^ rgba[o + 2]];
    }
  } else {
    for (let x = 0; x < width; x++) {
      const o = base + 4 * x;
      out[x] =
        (299 * (flip ^ rgba[o]) + 587 * (flip ^ rgba[o + 1]) + 114 * (flip ^ rgba[o + 2])) / 255000;
    }
  }
}

/**
 * RGBA bytes → planar CHW float32 in [0, 1], dropping alpha (not composited, like PIL's convert).
 * channels 3: R, G, B planes, x/255. channels 1: ITU-R BT.601 luma Y = 0.299 R + 0.587 G + 0.114 B,
 * computed as (299 R + 587 G + 114 B) / 255000 so a grey pixel v maps to exactly v/255, as in MNIST.
 */
export function toChannels(
  rgba: Uint8Array,
  width: number,
  height: number,
  channels: 1 | 3,
): Float32Array {
  const n = width * height;
  if (rgba.length !== n * 4)
    throw new RangeError(`toChannels: ${rgba.length} bytes is not ${width}×${height} RGBA`);
  const out = new Float32Array(channels * n);
  const row = new Float32Array(channels * width);
  for (let y = 0; y < height; y++) {
    channelsRow(rgba, width, y, channels, row);
    for (let c = 0; c < channels; c++)
      out.set(row.subarray(c * width, (c + 1) * width), c * n + y * width);
  }
  return out;
}

// Image dimensions read from the PNG IHDR / JPEG SOF header alone, and the limits checked on them before any
// decoder allocates: a small file cannot ask for gigabytes. Pure TS (no node: imports).
import { DatasetError } from './dataset-error.ts';

/** Image formats the decoders understand. */
export type ImageFormat = 'png' | 'jpeg';

/** What the header says: format and size, nothing decoded. */
export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
}

/** Bounds on an image's size, checked from its header. */
export interface ImageLimits {
  /** Most pixels (width × height). */
  maxPixels: number;
  /** Longest side (width or height). */
  maxSide: number;
}

/** The server's defaults (src/serve/options.ts DEFAULT_LIMITS), also used by decodeImage. */
export const DEFAULT_IMAGE_LIMITS: Readonly<ImageLimits> = { maxPixels: 4_194_304, maxSide: 8192 };

/** An image over a size limit: refused from its header (the server answers 413, not 400). */
export class ImageLimitError extends DatasetError {
  constructor(
    file: string,
    problem: string,
    readonly limit: 'pixels' | 'side',
    readonly value: number,
  ) {
    super(file, problem);
    this.name = 'ImageLimitError';
  }
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The format named by the first bytes (PNG signature or JPEG SOI + marker), or null. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 8 && PNG_MAGIC.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff)
    return 'jpeg';
  return null;
}

function leadingHex(bytes: Uint8Array): string {
  return (
    Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ') || '(empty)'
  );
}

const u16 = (b: Uint8Array, i: number) => (b[i] << 8) | b[i + 1];
const u32 = (b: Uint8Array, i: number) =>
  ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;

function pngHeader(bytes: Uint8Array, name: string): ImageHeader {
  const bad = (problem: string) => new DatasetError(name, `cannot decode PNG: ${problem}`);
  if (bytes.length < 8 + 8 + 13)
    throw bad(`file ends inside its IHDR header (${bytes.length} bytes)`);
  if (String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR')
    throw bad('missing IHDR: the first chunk must be IHDR');
  if (u32(bytes, 8) !== 13) throw bad(`IHDR is ${u32(bytes, 8)} bytes, expected 13`);
  return { format: 'png', width: u32(bytes, 16), height: u32(bytes, 20) };
}

// SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not frames.
const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/** Offset of the first SOF (frame) header's length field, walking the markers from SOI. */
function jpegSof(bytes: Uint8Array, name: string): number {
  const bad = (problem: string) => new DatasetError(name, `cannot decode JPEG: ${problem}`);
  // Every step moves forward by at least two bytes, so the walk ends within bytes.length / 2 steps.
  let pos = 2;
  for (;;) {
    if (pos >= bytes.length) throw bad('file ends before its SOF (frame) header');
    if (bytes[pos] !== 0xff)
      throw bad(
        `expected a marker at byte ${pos}, found ${bytes[pos].toString(16).padStart(2, '0')}`,
      );
    while (pos < bytes.length && bytes[pos] === 0xff) pos++; // fill bytes
    if (pos >= bytes.length) throw bad('file ends before its SOF (frame) header');
    const marker = bytes[pos++];
    if ((marker >= 0xd0 && marker <= 0xd8) || marker === 0x01) continue; // RSTn, SOI, TEM: no length
    if (marker === 0xd9) throw bad('EOI before any SOF (frame) header');
    if (marker === 0xda) throw bad('scan data before any SOF (frame) header');
    if (pos + 2 > bytes.length)
      throw bad(`file ends inside the length of marker ${marker.toString(16)}`);
    const length = u16(bytes, pos);
    if (length < 2) throw bad(`marker ${marker.toString(16)} has a bad length ${length}`);
    if (isSof(marker)) {
      if (length < 8 || pos + 7 > bytes.length)
        throw bad('file ends inside its SOF (frame) header');
      return pos;
    }
    pos += length;
  }
}

function jpegHeader(bytes: Uint8Array, name: string): ImageHeader {
  const pos = jpegSof(bytes, name);
  return { format: 'jpeg', height: u16(bytes, pos + 3), width: u16(bytes, pos + 5) };
}

/**
 * Format and size from the header only (PNG IHDR, JPEG first SOF0..SOF15), without decoding. Errors are
 * DatasetErrors naming `name`: not a PNG or JPEG, or a header that is truncated or malformed.
 */
export function readImageHeader(bytes: Uint8Array, name: string): ImageHeader {
  const format = sniffImageFormat(bytes);
  if (format === 'png') return pngHeader(bytes, name);
  if (format === 'jpeg') return jpegHeader(bytes, name);
  throw new DatasetError(name, `not a PNG or JPEG image (first bytes: ${leadingHex(bytes)})`);
}

/**
 * Refuses an image whose header size breaks `limits` (ImageLimitError, naming the limit) or has no pixels
 * (DatasetError). Call before decoding: every allocation of the decoders is bounded by what passes here.
 */
export function checkImageLimits(header: ImageHeader, limits: ImageLimits, name: string): void {
  const { format, width, height } = header;
  const what = `${format === 'png' ? 'PNG' : 'JPEG'} is ${width}×${height}`;
  if (width === 0 || height === 0)
    throw new DatasetError(name, `${what}: an image needs at least one pixel`);
  if (width * height > limits.maxPixels)
    throw new ImageLimitError(
      name,
      `${what}, more than the ${limits.maxPixels}-pixel limit`,
      'pixels',
      width * height,
    );
  // Width first: an image over the side limit both ways is refused as too wide.
  const sides = [
    [width, 'wider'],
    [height, 'taller'],
  ] as const;
  for (const [length, longer] of sides)
    if (length > limits.maxSide)
      throw new ImageLimitError(
        name,
        `${what}, ${longer} than the ${limits.maxSide}-pixel side limit`,
        'side',
        length,
      );
}

/**
 * The channels an image stores, from its header: 1 for a grey PNG (colour type 0 or 4) or a one-component
 * JPEG, else 3 (palette PNGs count as colour). How an ImageFolder picks its channels from its first image.
 */
export function imageChannels(bytes: Uint8Array, name: string): 1 | 3 {
  const { format } = readImageHeader(bytes, name);
  if (format === 'png') return bytes[25] === 0 || bytes[25] === 4 ? 1 : 3;
  // The component count follows length, precision, height and width; a file cut just before it counts as colour.
  return bytes[jpegSof(bytes, name) + 7] === 1 ? 1 : 3;
}

// An image of the report (CHW floats in [0, 1], or a signed perturbation) as a PNG data: URI, so the HTML page
// holds its images itself. Uncompressed (stored deflate blocks): a 32×32 RGB image is about 4 kB of base64.
import { adler32, crc32 } from '../data/index.ts';

/** Maps a CHW float image to bytes: values in [0, 1], or signed values in [−maxAbs, maxAbs] around mid-grey. */
function toBytes(data: ArrayLike<number>, signedMaxAbs: number | null): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    const u = signedMaxAbs === null ? v : 0.5 + v / (2 * (signedMaxAbs || 1));
    out[i] = Math.round(255 * Math.min(1, Math.max(0, u)));
  }
  return out;
}

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  view.setUint32(8 + body.length, crc32(out, 4, 8 + body.length));
  return out;
}

/** zlib stream of `raw` in stored (uncompressed) deflate blocks of at most 65,535 bytes. */
function zlibStored(raw: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(raw.length / 65535));
  const out = new Uint8Array(2 + blocks * 5 + raw.length + 4);
  out[0] = 0x78;
  out[1] = 0x01;
  let o = 2;
  for (let b = 0; b < blocks; b++) {
    const part = raw.subarray(b * 65535, Math.min(raw.length, (b + 1) * 65535));
    out[o] = b === blocks - 1 ? 1 : 0; // BFINAL on the last block, BTYPE 00 (stored)
    out[o + 1] = part.length & 0xff;
    out[o + 2] = part.length >>> 8;
    out[o + 3] = ~part.length & 0xff;
    out[o + 4] = (~part.length >>> 8) & 0xff;
    out.set(part, o + 5);
    o += 5 + part.length;
  }
  new DataView(out.buffer).setUint32(o, adler32(raw));
  return out;
}

/**
 * PNG bytes of a [C, H, W] image (C 1: greyscale, C ≥ 3: the first three channels as RGB). `signedMaxAbs`
 * maps a perturbation: 0 is mid-grey, ±signedMaxAbs black and white.
 */
export function encodePng(
  data: ArrayLike<number>,
  shape: readonly number[],
  signedMaxAbs: number | null = null,
): Uint8Array {
  const [c, h, w] = shape;
  const bytes = toBytes(data, signedMaxAbs);
  const rgb = c >= 3;
  const px = rgb ? 3 : 1;
  const raw = new Uint8Array(h * (1 + w * px));
  for (let y = 0; y < h; y++) {
    const row = y * (1 + w * px); // filter byte 0 (none) then the row's samples
    for (let x = 0; x < w; x++)
      for (let k = 0; k < px; k++) raw[row + 1 + x * px + k] = bytes[k * h * w + y * w + x];
  }
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, w);
  view.setUint32(4, h);
  ihdr[8] = 8; // bit depth
  ihdr[9] = rgb ? 2 : 0; // colour type: truecolour or greyscale
  const parts = [
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlibStored(raw)),
    chunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The image as a data:image/png;base64 URI. */
export function pngDataUri(
  data: ArrayLike<number>,
  shape: readonly number[],
  signedMaxAbs: number | null = null,
): string {
  const png = encodePng(data, shape, signedMaxAbs);
  let bin = '';
  for (let i = 0; i < png.length; i += 0x8000)
    bin += String.fromCharCode(...png.subarray(i, i + 0x8000));
  return `data:image/png;base64,${btoa(bin)}`;
}

// Benign traffic for the query-attack detector's false-positive rate: whole test splits plus naturally varied
// copies (shifts of up to 2 pixels, brightness and contrast, JPEG re-encoding, Gaussian noise σ 0.02), spread
// over many clients in a seeded random order, with exact retries of a client's own earlier query.
import jpeg from 'jpeg-js';
import { deriveStream, normal, permutation, randomInt, uniform } from '../src/hash/index.ts';

export interface BenignQuery {
  client: number;
  /** 8-bit grey pixels, H·W. */
  pixels: Uint8Array;
  /** JPEG bytes when the copy was re-encoded (sent as an upload), else null (sent as a JSON row). */
  jpeg: Uint8Array | null;
  /** What was done to the source image ('original', 'retry', or the transformations applied). */
  kind: string;
}

export interface BenignOptions {
  /** Source images (8-bit grey, count · side²). */
  images: Uint8Array;
  side: number;
  copies: number;
  clients: number;
  /** Share of queries that repeat one of the same client's earlier queries exactly. */
  retryShare: number;
  seed: number;
}

/** One naturally varied copy of `src` (side × side, dark background): each change with probability 1/2, at least one. */
export function variedCopy(
  src: Uint8Array,
  side: number,
  stream: number,
): { pixels: Uint8Array; jpeg: Uint8Array | null; kind: string } {
  let c = 0;
  const u = () => uniform(stream, c++);
  let pick: boolean[];
  do pick = [u() < 0.5, u() < 0.5, u() < 0.5, u() < 0.5, u() < 0.5];
  while (!pick.some(Boolean));
  const [shift, brightness, contrast, noise, reencode] = pick;
  const kinds: string[] = [];
  let v = Float64Array.from(src, (b) => b / 255);
  if (shift) {
    let dx = 0,
      dy = 0;
    while (dx === 0 && dy === 0) {
      dx = randomInt(stream, c++, 5) - 2;
      dy = randomInt(stream, c++, 5) - 2;
    }
    const out = new Float64Array(v.length);
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++) {
        const sy = y - dy,
          sx = x - dx;
        if (sy >= 0 && sy < side && sx >= 0 && sx < side) out[y * side + x] = v[sy * side + sx];
      }
    v = out;
    kinds.push(`shift ${dx},${dy}`);
  }
  if (brightness || contrast) {
    const b = brightness ? (u() - 0.5) * 0.3 : 0; // ±0.15
    const k = contrast ? 0.75 + u() * 0.5 : 1; // 0.75 … 1.25 about mid-grey
    for (let i = 0; i < v.length; i++) v[i] = k * (v[i] - 0.5) + 0.5 + b;
    if (brightness) kinds.push('brightness');
    if (contrast) kinds.push('contrast');
  }
  if (noise) {
    for (let i = 0; i < v.length; i++) v[i] += 0.02 * normal(stream, 1000 + i);
    kinds.push('noise');
  }
  const pixels = Uint8Array.from(v, (t) => Math.round(Math.min(1, Math.max(0, t)) * 255));
  if (!reencode) return { pixels, jpeg: null, kind: kinds.join('+') };
  const quality = 60 + Math.floor(u() * 36); // 60 … 95
  const rgba = new Uint8Array(pixels.length * 4);
  for (let i = 0; i < pixels.length; i++) {
    rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = pixels[i];
    rgba[4 * i + 3] = 255;
  }
  const bytes = new Uint8Array(
    jpeg.encode({ data: rgba, width: side, height: side }, quality).data,
  );
  const back = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
  const decoded = Uint8Array.from({ length: pixels.length }, (_, i) => back.data[4 * i]);
  kinds.push(`jpeg q${quality}`);
  return { pixels: decoded, jpeg: bytes, kind: kinds.join('+') };
}

/**
 * Every source image once and `copies` varied copies of random sources, in a seeded random order, each query
 * sent by a random client; then `retryShare` of the queries are exact repeats of the same client's earlier one.
 */
export function benignTraffic(o: BenignOptions): BenignQuery[] {
  const d = o.side * o.side,
    count = o.images.length / d;
  const base: BenignQuery[] = [];
  for (let i = 0; i < count; i++)
    base.push({
      client: 0,
      pixels: o.images.subarray(i * d, (i + 1) * d),
      jpeg: null,
      kind: 'original',
    });
  const sourceStream = deriveStream(o.seed, 1);
  for (let j = 0; j < o.copies; j++) {
    const s = randomInt(sourceStream, j, count);
    base.push({
      client: 0,
      ...variedCopy(o.images.subarray(s * d, (s + 1) * d), o.side, deriveStream(o.seed, 1000 + j)),
    });
  }
  const order = permutation(deriveStream(o.seed, 2), base.length);
  const clientStream = deriveStream(o.seed, 3),
    retryStream = deriveStream(o.seed, 4);
  const out: BenignQuery[] = [];
  const history: BenignQuery[][] = Array.from({ length: o.clients }, () => []);
  let r = 0;
  for (let i = 0; i < order.length; i++) {
    const q = { ...base[order[i]], client: randomInt(clientStream, i, o.clients) };
    out.push(q);
    history[q.client].push(q);
    // A retry follows with probability retryShare / (1 − retryShare), so retries are that share of the whole.
    if (uniform(retryStream, r++) < o.retryShare / (1 - o.retryShare)) {
      const h = history[q.client];
      const again = h[randomInt(retryStream, r++, h.length)];
      out.push({ ...again, kind: 'retry' });
    }
  }
  return out;
}

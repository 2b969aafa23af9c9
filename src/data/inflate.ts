// Inflate (RFC 1950 zlib wrapper + RFC 1951 deflate: stored, fixed and dynamic Huffman blocks) into a buffer
// the caller sized in advance, failing the moment output would pass it: a decompression bomb costs at most
// the buffer the caller already accepted. Pure TS, no node:zlib, so it runs in browsers and workers.

/** Corrupt, truncated or unsupported zlib/deflate data. */
export class InflateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InflateError';
  }
}

/** The stream holds more data than the output buffer: thrown before the first byte past `capacity` is written. */
export class InflateOverflowError extends InflateError {
  constructor(readonly capacity: number) {
    super(`inflated data exceeds ${capacity} bytes`);
    this.name = 'InflateOverflowError';
  }
}

const LEN_BASE = Uint16Array.of(
  3,
  4,
  5,
  6,
  7,
  8,
  9,
  10,
  11,
  13,
  15,
  17,
  19,
  23,
  27,
  31,
  35,
  43,
  51,
  59,
  67,
  83,
  99,
  115,
  131,
  163,
  195,
  227,
  258,
);
const LEN_EXTRA = Uint8Array.of(
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  1,
  1,
  1,
  1,
  2,
  2,
  2,
  2,
  3,
  3,
  3,
  3,
  4,
  4,
  4,
  4,
  5,
  5,
  5,
  5,
  0,
);
const DIST_BASE = Uint16Array.of(
  1,
  2,
  3,
  4,
  5,
  7,
  9,
  13,
  17,
  25,
  33,
  49,
  65,
  97,
  129,
  193,
  257,
  385,
  513,
  769,
  1025,
  1537,
  2049,
  3073,
  4097,
  6145,
  8193,
  12289,
  16385,
  24577,
);
const DIST_EXTRA = Uint8Array.of(
  0,
  0,
  0,
  0,
  1,
  1,
  2,
  2,
  3,
  3,
  4,
  4,
  5,
  5,
  6,
  6,
  7,
  7,
  8,
  8,
  9,
  9,
  10,
  10,
  11,
  11,
  12,
  12,
  13,
  13,
);
const CL_ORDER = Uint8Array.of(16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15);

// Codes up to FAST_BITS long decode with one table look-up; longer ones (rare) walk the canonical code
// (puff's method). Each table is only as wide as its longest code (at most FAST_BITS), so the set-up cost of
// a block stays small even for streams made of many tiny dynamic blocks.
const FAST_BITS = 10;

/** A canonical Huffman code: look-up entries (symbol << 4 | length, 0 = longer code) and puff's tables. */
interface Huffman {
  fast: Int32Array;
  /** Index mask of `fast`: (1 << min(FAST_BITS, longest code)) − 1. */
  mask: number;
  counts: Uint16Array;
  offs: Uint16Array;
  symbols: Uint16Array;
}

const newHuffman = (symbols: number): Huffman => ({
  fast: new Int32Array(1 << FAST_BITS),
  mask: 0,
  counts: new Uint16Array(16),
  offs: new Uint16Array(16),
  symbols: new Uint16Array(symbols),
});

/** Fills `h` from code lengths (0 = unused). Over-subscribed sets are errors; incomplete ones fail on use. */
function buildHuffman(
  h: Huffman,
  lengths: Uint8Array,
  start: number,
  n: number,
  what: string,
): void {
  const { fast, counts, offs, symbols } = h;
  counts.fill(0);
  for (let s = 0; s < n; s++) counts[lengths[start + s]]++;
  counts[0] = 0;
  let left = 1,
    longest = 1;
  for (let len = 1; len <= 15; len++) {
    left = (left << 1) - counts[len];
    if (left < 0) throw new InflateError(`invalid deflate data: over-subscribed ${what} code`);
    if (counts[len]) longest = len;
  }
  const bits = Math.min(FAST_BITS, longest),
    mask = (1 << bits) - 1;
  h.mask = mask;
  fast.fill(0, 0, mask + 1);
  offs[1] = 0;
  for (let len = 1; len < 15; len++) offs[len + 1] = offs[len] + counts[len];
  for (let s = 0; s < n; s++) {
    const len = lengths[start + s];
    if (len) symbols[offs[len]++] = s;
  }
  // Canonical codes in (length, symbol) order; deflate sends them most significant bit first, so the
  // table is indexed by the bit-reversed code.
  let code = 0,
    k = 0;
  for (let len = 1; len <= bits; len++, code <<= 1) {
    for (let c = 0; c < counts[len]; c++, code++, k++) {
      let rev = 0;
      for (let b = 0; b < len; b++) rev |= ((code >>> b) & 1) << (len - 1 - b);
      const entry = (symbols[k] << 4) | len;
      for (let i = rev; i <= mask; i += 1 << len) fast[i] = entry;
    }
  }
}

let fixed: { lit: Huffman; dist: Huffman } | null = null;
function fixedTables(): { lit: Huffman; dist: Huffman } {
  if (fixed) return fixed;
  const l = new Uint8Array(288);
  l.fill(8, 0, 144);
  l.fill(9, 144, 256);
  l.fill(7, 256, 280);
  l.fill(8, 280, 288);
  const lit = newHuffman(288),
    dist = newHuffman(32);
  buildHuffman(lit, l, 0, 288, 'literal/length');
  buildHuffman(dist, new Uint8Array(32).fill(5), 0, 32, 'distance');
  return (fixed = { lit, dist });
}

/**
 * Slow path of a symbol whose code is longer than FAST_BITS (or unused): puff's canonical walk over the
 * buffered bits. Returns symbol << 4 | length, -1 when the bits run out, -2 for an unused code.
 */
function slowDecode(h: Huffman, bitbuf: number, bitcnt: number): number {
  const { counts, symbols } = h;
  let code = 0,
    first = 0,
    index = 0;
  for (let len = 1; len <= 15; len++) {
    if (len > bitcnt) return -1;
    code |= (bitbuf >>> (len - 1)) & 1;
    const count = counts[len];
    if (code - count < first) return (symbols[index + code - first] << 4) | len;
    index += count;
    first = (first + count) << 1;
    code <<= 1;
  }
  return -2;
}

/** Bit reader state for the (cold) dynamic block header; the hot loop keeps the same state in locals. */
interface Bits {
  src: Uint8Array;
  pos: number;
  bitbuf: number;
  bitcnt: number;
}

const truncated = () => new InflateError('deflate data is truncated');

function need(b: Bits, count: number): number {
  while (b.bitcnt < count) {
    if (b.pos >= b.src.length) throw truncated();
    b.bitbuf |= b.src[b.pos++] << b.bitcnt;
    b.bitcnt += 8;
  }
  const v = b.bitbuf & ((1 << count) - 1);
  b.bitbuf >>>= count;
  b.bitcnt -= count;
  return v;
}

function decodeCold(b: Bits, h: Huffman): number {
  while (b.bitcnt < 15 && b.pos < b.src.length) {
    b.bitbuf |= b.src[b.pos++] << b.bitcnt;
    b.bitcnt += 8;
  }
  let e = h.fast[b.bitbuf & h.mask];
  if (e === 0) e = slowDecode(h, b.bitbuf, b.bitcnt);
  if (e === -1 || (e & 15) > b.bitcnt) throw truncated();
  if (e === -2) throw new InflateError('invalid deflate data: unused Huffman code');
  b.bitbuf >>>= e & 15;
  b.bitcnt -= e & 15;
  return e >>> 4;
}

interface Dynamic {
  lit: Huffman;
  dist: Huffman;
  cl: Huffman;
  lengths: Uint8Array;
}

/** Reads a dynamic block's code lengths (RFC 1951 3.2.7) into d.lit and d.dist. */
function readDynamic(b: Bits, d: Dynamic): void {
  const nlen = need(b, 5) + 257,
    ndist = need(b, 5) + 1,
    ncode = need(b, 4) + 4;
  if (nlen > 286 || ndist > 30)
    throw new InflateError('invalid deflate data: too many length or distance codes');
  const lengths = d.lengths;
  lengths.fill(0);
  for (let i = 0; i < ncode; i++) lengths[CL_ORDER[i]] = need(b, 3);
  buildHuffman(d.cl, lengths, 0, 19, 'code-length');
  lengths.fill(0, 0, 19);
  for (let i = 0; i < nlen + ndist;) {
    const sym = decodeCold(b, d.cl);
    if (sym < 16) {
      lengths[i++] = sym;
      continue;
    }
    let value = 0,
      repeat: number;
    if (sym === 16) {
      if (i === 0) throw new InflateError('invalid deflate data: repeat with no previous length');
      value = lengths[i - 1];
      repeat = 3 + need(b, 2);
    } else if (sym === 17) repeat = 3 + need(b, 3);
    else repeat = 11 + need(b, 7);
    if (i + repeat > nlen + ndist)
      throw new InflateError('invalid deflate data: code lengths overrun');
    while (repeat--) lengths[i++] = value;
  }
  if (lengths[256] === 0) throw new InflateError('invalid deflate data: no end-of-block code');
  buildHuffman(d.lit, lengths, 0, nlen, 'literal/length');
  buildHuffman(d.dist, lengths, nlen, ndist, 'distance');
}

/**
 * Inflates the raw deflate stream starting at `src[start]` into `out`. Returns the bytes written and the
 * byte offset just past the final block. Throws InflateOverflowError instead of writing past out.length.
 */
export function inflateRawInto(
  src: Uint8Array,
  start: number,
  out: Uint8Array,
): { written: number; end: number } {
  const n = src.length,
    cap = out.length;
  // The bit reader lives in locals (no closures) in the symbol loop: it is the hot path.
  let pos = start,
    bitbuf = 0,
    bitcnt = 0,
    o = 0;
  let dyn: Dynamic | null = null;
  for (let final = 0; !final;) {
    while (bitcnt < 3) {
      if (pos >= n) throw truncated();
      bitbuf |= src[pos++] << bitcnt;
      bitcnt += 8;
    }
    final = bitbuf & 1;
    const type = (bitbuf >>> 1) & 3;
    bitbuf >>>= 3;
    bitcnt -= 3;
    if (type === 0) {
      // Stored: skip to a byte boundary (whole buffered bytes go back to `pos`), then LEN, NLEN, raw bytes.
      pos -= bitcnt >>> 3;
      bitbuf = bitcnt = 0;
      if (pos + 4 > n) throw truncated();
      const len = src[pos] | (src[pos + 1] << 8),
        nlen = src[pos + 2] | (src[pos + 3] << 8);
      pos += 4;
      if (len !== (~nlen & 0xffff))
        throw new InflateError('invalid deflate data: stored block length check fails');
      if (pos + len > n) throw truncated();
      if (o + len > cap) throw new InflateOverflowError(cap);
      out.set(src.subarray(pos, pos + len), o);
      pos += len;
      o += len;
      continue;
    }
    let lit: Huffman, dist: Huffman;
    if (type === 1) ({ lit, dist } = fixedTables());
    else if (type === 2) {
      dyn ??= {
        lit: newHuffman(288),
        dist: newHuffman(32),
        cl: newHuffman(19),
        lengths: new Uint8Array(288 + 32),
      };
      const b: Bits = { src, pos, bitbuf, bitcnt };
      readDynamic(b, dyn);
      ({ pos, bitbuf, bitcnt } = b);
      lit = dyn.lit;
      dist = dyn.dist;
    } else throw new InflateError('invalid deflate data: reserved block type 3');

    const lfast = lit.fast,
      dfast = dist.fast,
      lmask = lit.mask,
      dmask = dist.mask;
    for (;;) {
      if (bitcnt < 15) {
        if (pos + 2 <= n) {
          bitbuf |= (src[pos] << bitcnt) | (src[pos + 1] << (bitcnt + 8));
          pos += 2;
          bitcnt += 16;
        } else
          while (bitcnt < 15 && pos < n) {
            bitbuf |= src[pos++] << bitcnt;
            bitcnt += 8;
          }
      }
      let e = lfast[bitbuf & lmask];
      if (e === 0) e = slowDecode(lit, bitbuf, bitcnt);
      if (e < 0 || (e & 15) > bitcnt) {
        if (e === -2) throw new InflateError('invalid deflate data: unused Huffman code');
        throw truncated();
      }
      bitbuf >>>= e & 15;
      bitcnt -= e & 15;
      const sym = e >>> 4;
      if (sym < 256) {
        if (o >= cap) throw new InflateOverflowError(cap);
        out[o++] = sym;
        continue;
      }
      if (sym === 256) break;
      const li = sym - 257;
      if (li >= 29) throw new InflateError('invalid deflate data: bad length symbol');
      let len = LEN_BASE[li];
      const le = LEN_EXTRA[li];
      if (le) {
        while (bitcnt < le) {
          if (pos >= n) throw truncated();
          bitbuf |= src[pos++] << bitcnt;
          bitcnt += 8;
        }
        len += bitbuf & ((1 << le) - 1);
        bitbuf >>>= le;
        bitcnt -= le;
      }
      while (bitcnt < 15 && pos < n) {
        bitbuf |= src[pos++] << bitcnt;
        bitcnt += 8;
      }
      e = dfast[bitbuf & dmask];
      if (e === 0) e = slowDecode(dist, bitbuf, bitcnt);
      if (e < 0 || (e & 15) > bitcnt) {
        if (e === -2) throw new InflateError('invalid deflate data: unused Huffman code');
        throw truncated();
      }
      bitbuf >>>= e & 15;
      bitcnt -= e & 15;
      const ds = e >>> 4;
      if (ds >= 30) throw new InflateError('invalid deflate data: bad distance symbol');
      let d = DIST_BASE[ds];
      const de = DIST_EXTRA[ds];
      if (de) {
        while (bitcnt < de) {
          if (pos >= n) throw truncated();
          bitbuf |= src[pos++] << bitcnt;
          bitcnt += 8;
        }
        d += bitbuf & ((1 << de) - 1);
        bitbuf >>>= de;
        bitcnt -= de;
      }
      if (d > o) throw new InflateError('invalid deflate data: distance too far back');
      if (o + len > cap) throw new InflateOverflowError(cap);
      if (d >= len && len > 16) {
        out.copyWithin(o, o - d, o - d + len);
        o += len;
      } else for (let k = o - d, stop = o + len; o < stop;) out[o++] = out[k++]; // may overlap: byte by byte
    }
  }
  // Hand whole buffered bytes back: the stream ends at a byte boundary after the final block.
  pos -= bitcnt >>> 3;
  return { written: o, end: pos };
}

/** Adler-32 of `bytes[start, end)` (RFC 1950). */
export function adler32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let a = 1,
    b = 0;
  // 3800 bytes keep b below 2³¹ between reductions, so the sums stay small integers.
  for (let i = start; i < end;) {
    const stop = Math.min(end, i + 3800);
    for (; i < stop; i++) {
      a += bytes[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/**
 * Inflates a zlib stream (RFC 1950: header, deflate data, adler32) into `out` and returns the bytes written.
 * Throws InflateOverflowError as soon as the data would pass out.length, InflateError for anything corrupt,
 * truncated or using a preset dictionary. Bytes after the checksum are ignored.
 */
export function zlibInflateInto(src: Uint8Array, out: Uint8Array): number {
  if (src.length < 2) throw new InflateError('zlib data is truncated (no header)');
  const cmf = src[0],
    flg = src[1];
  if ((cmf & 0x0f) !== 8)
    throw new InflateError(`zlib compression method ${cmf & 0x0f} is not deflate (8)`);
  if (cmf >>> 4 > 7) throw new InflateError(`zlib window size 2^${(cmf >>> 4) + 8} is over 32 KiB`);
  if (((cmf << 8) | flg) % 31 !== 0) throw new InflateError('zlib header check fails');
  if (flg & 0x20) throw new InflateError('zlib preset dictionaries are not supported');
  const { written, end } = inflateRawInto(src, 2, out);
  if (end + 4 > src.length) throw new InflateError('zlib data is truncated (no adler32 checksum)');
  const want = ((src[end] << 24) | (src[end + 1] << 16) | (src[end + 2] << 8) | src[end + 3]) >>> 0;
  const got = adler32(out, 0, written);
  if (want !== got)
    throw new InflateError(
      `zlib adler32 mismatch: stored ${want.toString(16).padStart(8, '0')}, computed ${got.toString(16).padStart(8, '0')}`,
    );
  return written;
}

// Resampling of planar CHW float images (the server resizes arbitrary uploads to the model input), streamed
// one source row at a time: memory is the output plus two rows, whatever the source height.
/** Resampling filter: 'area' averages the covered source pixels (right for shrinking: no aliasing);
 *  'bilinear' interpolates between the two nearest pixel centres (right for enlarging). */
export type ResizeMode = 'area' | 'bilinear';

/** The default filter: 'area' when neither side grows, else 'bilinear'. */
export function defaultResizeMode(
  height: number,
  width: number,
  outHeight: number,
  outWidth: number,
): ResizeMode {
  return outHeight <= height && outWidth <= width ? 'area' : 'bilinear';
}

/** x taps of every output column, flat: column o uses idx/wt[start[o], start[o + 1]). Weights sum to 1. */
interface Taps {
  start: Int32Array;
  idx: Int32Array;
  wt: Float64Array;
}

/** Box filter with fractional coverage: output o covers source [o·s, (o+1)·s) with s = inSize/outSize. */
function areaTaps(inSize: number, outSize: number): Taps {
  const s = inSize / outSize;
  const start = new Int32Array(outSize + 1),
    idx: number[] = [],
    wt: number[] = [];
  for (let o = 0; o < outSize; o++) {
    const lo = o * s,
      hi = (o + 1) * s;
    for (let i = Math.floor(lo); i < Math.min(inSize, Math.ceil(hi)); i++) {
      const cover = Math.min(hi, i + 1) - Math.max(lo, i);
      if (cover > 0) {
        idx.push(i);
        wt.push(cover / s);
      }
    }
    start[o + 1] = idx.length;
  }
  return { start, idx: Int32Array.from(idx), wt: Float64Array.from(wt) };
}

/** Half-pixel-centre bilinear (align_corners = false), edges clamped, as PIL/TF/PyTorch do by default. */
function bilinearTap(
  inSize: number,
  outSize: number,
  o: number,
): { i0: number; i1: number; f: number } {
  const s = inSize / outSize;
  const x = Math.min(Math.max((o + 0.5) * s - 0.5, 0), inSize - 1);
  const i0 = Math.floor(x);
  return { i0, i1: Math.min(i0 + 1, inSize - 1), f: x - i0 };
}

function bilinearTaps(inSize: number, outSize: number): Taps {
  const start = new Int32Array(outSize + 1),
    idx = new Int32Array(2 * outSize),
    wt = new Float64Array(2 * outSize);
  for (let o = 0; o < outSize; o++) {
    const { i0, i1, f } = bilinearTap(inSize, outSize, o);
    idx[2 * o] = i0;
    idx[2 * o + 1] = i1;
    wt[2 * o] = 1 - f;
    wt[2 * o + 1] = f;
    start[o + 1] = 2 * o + 2;
  }
  return { start, idx, wt };
}

/**
 * Resizes an image pushed one source row at a time (rows 0..height−1 in order). x taps cover the width only;
 * y weights are computed per source row: in 'area' mode each row adds into the output rows it covers (≤ 2
 * when shrinking), in 'bilinear' mode the last two x-resampled rows are kept. Sums run in float64 in the
 * same order as a whole-image two-pass resize, stored as float32.
 */
export class RowResizer {
  readonly mode: ResizeMode;
  private readonly out: Float32Array;
  private readonly xTaps: Taps | null;
  /** Area mode: float64 output accumulators. */
  private readonly acc: Float64Array | null = null;
  /** Bilinear mode: x-resampled rows, source row y in slot y & 1. */
  private readonly rows: Float64Array[] = [];
  private readonly scratch: Float64Array;
  private y = 0;
  private nextOut = 0;

  constructor(
    readonly channels: number,
    readonly height: number,
    readonly width: number,
    readonly outHeight: number,
    readonly outWidth: number,
    mode?: ResizeMode,
  ) {
    if (!(
      outHeight >= 1 &&
      outWidth >= 1 &&
      Number.isInteger(outHeight) &&
      Number.isInteger(outWidth)
    )) {
      throw new RangeError(`resizeCHW: bad output size ${outHeight}×${outWidth}`);
    }
    if (!(height >= 1 && width >= 1 && Number.isInteger(height) && Number.isInteger(width)))
      throw new RangeError(`resizeCHW: bad input size ${height}×${width}`);
    this.mode = mode ?? defaultResizeMode(height, width, outHeight, outWidth);
    this.out = new Float32Array(channels * outHeight * outWidth);
    const same = outHeight === height && outWidth === width;
    this.xTaps = same
      ? null
      : this.mode === 'area'
        ? areaTaps(width, outWidth)
        : bilinearTaps(width, outWidth);
    this.scratch = new Float64Array(same ? 0 : channels * outWidth);
    if (same) return;
    if (this.mode === 'area') this.acc = new Float64Array(channels * outHeight * outWidth);
    else this.rows = [new Float64Array(channels * outWidth), new Float64Array(channels * outWidth)];
  }

  /** Adds the next source row: `row[c · width + x]` for every channel c and column x. */
  push(row: ArrayLike<number>): void {
    const { channels, height, width, outHeight, outWidth } = this;
    if (this.y >= height) throw new RangeError(`RowResizer: more than ${height} rows`);
    if (row.length < channels * width)
      throw new RangeError(`RowResizer: a row needs ${channels * width} values, got ${row.length}`);
    const y = this.y++;
    if (!this.xTaps) {
      // same size: a copy
      for (let c = 0; c < channels; c++)
        for (let x = 0; x < width; x++) this.out[(c * height + y) * width + x] = row[c * width + x];
      return;
    }
    const { start, idx, wt } = this.xTaps;
    const xr = this.acc ? this.scratch : this.rows[y & 1];
    for (let c = 0; c < channels; c++) {
      const src = c * width,
        dst = c * outWidth;
      for (let ox = 0; ox < outWidth; ox++) {
        let acc = 0;
        for (let k = start[ox]; k < start[ox + 1]; k++) acc += wt[k] * row[src + idx[k]];
        xr[dst + ox] = acc;
      }
    }
    if (this.acc) this.addArea(y, xr);
    else this.emitBilinear(y);
  }

  /** Area: source row y adds cover/s of itself into each output row o whose span [o·s, (o+1)·s) it meets. */
  private addArea(y: number, xr: Float64Array): void {
    const { channels, height, outHeight, outWidth } = this,
      acc = this.acc!;
    const s = height / outHeight;
    for (let o = Math.max(0, Math.floor(y / s) - 2); o < outHeight; o++) {
      const lo = o * s,
        hi = (o + 1) * s;
      if (lo >= y + 1) break;
      const cover = Math.min(hi, y + 1) - Math.max(lo, y);
      if (!(cover > 0)) continue;
      const w = cover / s;
      for (let c = 0; c < channels; c++) {
        const dst = (c * outHeight + o) * outWidth,
          src = c * outWidth;
        for (let ox = 0; ox < outWidth; ox++) acc[dst + ox] += w * xr[src + ox];
      }
    }
  }

  /** Bilinear: writes every output row whose two source rows have both arrived (they are y − 1 and y). */
  private emitBilinear(y: number): void {
    const { channels, height, outHeight, outWidth } = this;
    for (; this.nextOut < outHeight; this.nextOut++) {
      const o = this.nextOut,
        { i0, i1, f } = bilinearTap(height, outHeight, o);
      if (i1 > y) break;
      const r0 = this.rows[i0 & 1],
        r1 = this.rows[i1 & 1],
        w0 = 1 - f;
      for (let c = 0; c < channels; c++) {
        const dst = (c * outHeight + o) * outWidth,
          src = c * outWidth;
        for (let ox = 0; ox < outWidth; ox++) {
          let acc = 0;
          acc += w0 * r0[src + ox];
          acc += f * r1[src + ox];
          this.out[dst + ox] = acc;
        }
      }
    }
  }

  /** The resized CHW image, once all `height` rows are in. */
  finish(): Float32Array {
    if (this.y !== this.height)
      throw new RangeError(`RowResizer: got ${this.y} of ${this.height} rows`);
    // Non-negative weights summing to 1: a [0, 1] input stays in [0, 1] (an overshoot of a few float64
    // ulps rounds back to 1 in f32), so no clamp is needed and other ranges pass through untouched.
    if (this.acc) this.out.set(this.acc);
    return this.out;
  }
}

/**
 * Resizes a CHW image (`channels` × `height` × `width` floats) to `outHeight` × `outWidth`.
 * Default mode: 'area' when neither side grows, else 'bilinear'. Same size returns a copy.
 */
export function resizeCHW(
  src: Float32Array,
  channels: number,
  height: number,
  width: number,
  outHeight: number,
  outWidth: number,
  mode?: ResizeMode,
): Float32Array {
  if (src.length !== channels * height * width)
    throw new RangeError(`resizeCHW: ${src.length} values is not ${channels}×${height}×${width}`);
  const r = new RowResizer(channels, height, width, outHeight, outWidth, mode);
  const row = new Float32Array(channels * width);
  for (let y = 0; y < height; y++) {
    for (let c = 0; c < channels; c++)
      row.set(src.subarray((c * height + y) * width, (c * height + y + 1) * width), c * width);
    r.push(row);
  }
  return r.finish();
}

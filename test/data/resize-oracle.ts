// The previous resizeCHW (two whole-image passes with per-axis tap lists), kept verbatim as the oracle the
// row-streaming resampler in src/data/resize.ts must match within 1e-6. Test code only: it allocates
// height × outWidth float64 and per-row tap arrays, which is what made huge images expensive.
/** Resampling filter: 'area' averages the covered source pixels (right for shrinking: no aliasing);
 *  'bilinear' interpolates between the two nearest pixel centres (right for enlarging). */
export type ResizeMode = 'area' | 'bilinear';

interface Taps {
  /** For output index o: source indices and weights (weights sum to 1). */
  index: number[][];
  weight: number[][];
}

/** Box filter with fractional coverage: output o covers source [o·s, (o+1)·s) with s = inSize/outSize. */
function areaTaps(inSize: number, outSize: number): Taps {
  const s = inSize / outSize;
  const index: number[][] = [],
    weight: number[][] = [];
  for (let o = 0; o < outSize; o++) {
    const lo = o * s,
      hi = (o + 1) * s;
    const idx: number[] = [],
      w: number[] = [];
    for (let i = Math.floor(lo); i < Math.min(inSize, Math.ceil(hi)); i++) {
      const cover = Math.min(hi, i + 1) - Math.max(lo, i);
      if (cover > 0) {
        idx.push(i);
        w.push(cover / s);
      }
    }
    index.push(idx);
    weight.push(w);
  }
  return { index, weight };
}

/** Half-pixel-centre bilinear (align_corners = false), edges clamped, as PIL/TF/PyTorch do by default. */
function bilinearTaps(inSize: number, outSize: number): Taps {
  const s = inSize / outSize;
  const index: number[][] = [],
    weight: number[][] = [];
  for (let o = 0; o < outSize; o++) {
    const x = Math.min(Math.max((o + 0.5) * s - 0.5, 0), inSize - 1);
    const i0 = Math.floor(x),
      i1 = Math.min(i0 + 1, inSize - 1),
      f = x - i0;
    index.push([i0, i1]);
    weight.push([1 - f, f]);
  }
  return { index, weight };
}

/**
 * Resizes a CHW image (`channels` × `height` × `width` floats) to `outHeight` × `outWidth`.
 * Default mode: 'area' when neither side grows, else 'bilinear'. Same size returns a copy.
 */
export function resizeCHWOracle(
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
  if (!(
    outHeight >= 1 &&
    outWidth >= 1 &&
    Number.isInteger(outHeight) &&
    Number.isInteger(outWidth)
  )) {
    throw new RangeError(`resizeCHW: bad output size ${outHeight}×${outWidth}`);
  }
  if (outHeight === height && outWidth === width) return src.slice();
  const m = mode ?? (outHeight <= height && outWidth <= width ? 'area' : 'bilinear');
  const taps = m === 'area' ? areaTaps : bilinearTaps;
  const tx = taps(width, outWidth),
    ty = taps(height, outHeight);
  // Pass 1 along x (height × outWidth per channel), pass 2 along y; float64 accumulators, f32 store.
  const mid = new Float64Array(channels * height * outWidth);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      const row = (c * height + y) * width,
        dst = (c * height + y) * outWidth;
      for (let ox = 0; ox < outWidth; ox++) {
        const idx = tx.index[ox],
          w = tx.weight[ox];
        let acc = 0;
        for (let k = 0; k < idx.length; k++) acc += w[k] * src[row + idx[k]];
        mid[dst + ox] = acc;
      }
    }
  }
  const out = new Float32Array(channels * outHeight * outWidth);
  for (let c = 0; c < channels; c++) {
    for (let oy = 0; oy < outHeight; oy++) {
      const idx = ty.index[oy],
        w = ty.weight[oy],
        dst = (c * outHeight + oy) * outWidth;
      for (let ox = 0; ox < outWidth; ox++) {
        let acc = 0;
        for (let k = 0; k < idx.length; k++)
          acc += w[k] * mid[(c * height + idx[k]) * outWidth + ox];
        // Non-negative weights summing to 1: a [0, 1] input stays in [0, 1] (an overshoot of a few float64
        // ulps rounds back to 1 in f32), so no clamp is needed and other ranges pass through untouched.
        out[dst + ox] = acc;
      }
    }
  }
  return out;
}

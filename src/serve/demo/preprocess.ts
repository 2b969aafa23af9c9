// The demo page's drawing pad as a model input, the way MNIST digits were made: the ink's bounding box scaled
// to fit 20/28 of the input, placed so its centre of mass sits at the centre, area-averaged. Pure, so the
// same function runs in the page and in tests.

/** Ink (0 = none, 1 = full) below this counts as empty paper when finding the bounding box. */
const INK = 0.05;
/** Share of the input's side the drawing's longer side is scaled to (MNIST: 20 of 28 pixels). */
const BOX = 20 / 28;

/**
 * `ink` (width·height values in [0, 1], row-major: the pad's strokes) → the model's input [C, H, W] in [0, 1].
 * `background` 'light' inverts (dark strokes on white); 'dark' and 'any' keep light strokes on black. C must be
 * 1 or 3 (the grey value repeated). An empty pad gives the background.
 */
export function drawingToInput(
  ink: Float32Array,
  width: number,
  height: number,
  shape: readonly number[],
  background: 'dark' | 'light' | 'any' = 'dark',
): Float32Array {
  const [c, h, w] = shape;
  if (shape.length !== 3 || (c !== 1 && c !== 3))
    throw new RangeError(`model input [${shape.join(', ')}] is not an image of 1 or 3 channels`);
  if (ink.length !== width * height)
    throw new RangeError(`ink has ${ink.length} values, not ${width}×${height}`);
  const gray = new Float32Array(h * w);
  const box = inkBox(ink, width, height);
  if (box) {
    // Centre of mass of the ink, in source pixels (pixel centres at +0.5).
    let m = 0,
      mx = 0,
      my = 0;
    for (let y = box.y0; y < box.y1; y++)
      for (let x = box.x0; x < box.x1; x++) {
        const v = ink[y * width + x];
        m += v;
        mx += v * (x + 0.5);
        my += v * (y + 0.5);
      }
    const side = Math.max(box.x1 - box.x0, box.y1 - box.y0);
    const scale = (BOX * Math.min(h, w)) / side; // output pixels per source pixel
    const cx = mx / m,
      cy = my / m;
    // Output pixel (oy, ox) covers the source rectangle whose centre maps to the output's centre.
    for (let oy = 0; oy < h; oy++) {
      const sy0 = cy + (oy - h / 2) / scale,
        sy1 = sy0 + 1 / scale;
      for (let ox = 0; ox < w; ox++) {
        const sx0 = cx + (ox - w / 2) / scale;
        gray[oy * w + ox] = areaMean(ink, width, height, sx0, sx0 + 1 / scale, sy0, sy1);
      }
    }
  }
  const out = new Float32Array(c * h * w);
  for (let ch = 0; ch < c; ch++)
    for (let i = 0; i < h * w; i++) {
      const v = Math.min(1, Math.max(0, gray[i]));
      out[ch * h * w + i] = background === 'light' ? 1 - v : v;
    }
  return out;
}

/** The bounding box [x0, x1) × [y0, y1) of the ink, or null for an empty pad. */
function inkBox(ink: Float32Array, width: number, height: number) {
  let x0 = width,
    x1 = 0,
    y0 = height,
    y1 = 0;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x] <= INK) continue;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x + 1);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y + 1);
    }
  return x1 > x0 ? { x0, x1, y0, y1 } : null;
}

/** Mean of the ink over the source rectangle [x0, x1) × [y0, y1), pixels weighted by their overlap (outside: 0). */
function areaMean(
  ink: Float32Array,
  width: number,
  height: number,
  x0: number,
  x1: number,
  y0: number,
  y1: number,
): number {
  let sum = 0;
  for (let y = Math.max(0, Math.floor(y0)); y < Math.min(height, Math.ceil(y1)); y++) {
    const wy = Math.min(y + 1, y1) - Math.max(y, y0);
    for (let x = Math.max(0, Math.floor(x0)); x < Math.min(width, Math.ceil(x1)); x++) {
      const wx = Math.min(x + 1, x1) - Math.max(x, x0);
      sum += ink[y * width + x] * wx * wy;
    }
  }
  return sum / ((x1 - x0) * (y1 - y0));
}

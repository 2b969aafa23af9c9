// Image polarity: is an upload light-on-dark or dark-on-light, judged from its 1-pixel outer border, and must it
// be inverted to match the background a model was trained on (model.json input.background)?
import type { InputBackground } from '../nn/index.ts';

/**
 * Mean BT.601 luma, in [0, 1], of the outer 1-pixel border of a width × height RGBA image (every border
 * pixel once; the whole image when a side is 1 or 2). Alpha is ignored, as toChannels ignores it.
 */
export function borderMean(rgba: Uint8Array, width: number, height: number): number {
  if (!(width >= 1 && height >= 1) || rgba.length !== width * height * 4)
    throw new RangeError(`borderMean: ${rgba.length} bytes is not ${width}×${height} RGBA`);
  let sum = 0,
    count = 0;
  const add = (x: number, y: number) => {
    const o = 4 * (y * width + x);
    sum += 299 * rgba[o] + 587 * rgba[o + 1] + 114 * rgba[o + 2];
    count++;
  };
  for (let x = 0; x < width; x++) {
    add(x, 0);
    if (height > 1) add(x, height - 1);
  }
  for (let y = 1; y < height - 1; y++) {
    add(0, y);
    if (width > 1) add(width - 1, y);
  }
  return sum / (count * 255000);
}

/**
 * Whether to invert (v → 1 − v) an image with this border mean for a model trained on `background`: a 'dark'
 * model gets light-bordered images inverted (border mean > 0.5), a 'light' model dark-bordered ones
 * (< 0.5); 'any' never inverts. A border of exactly 0.5 is left alone.
 */
export function shouldInvert(background: InputBackground, mean: number): boolean {
  if (background === 'dark') return mean > 0.5;
  if (background === 'light') return mean < 0.5;
  return false;
}

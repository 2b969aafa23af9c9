// An encoded image (PNG or JPEG) as one model input: decoded within size limits, inverted when its polarity
// contradicts the model's background, converted to the model's channels and resized to its H×W in [0, 1].
import type { InputBackground } from '../nn/index.ts';
import { channelsRow, decodeImage } from './image-decode.ts';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from './image-header.ts';
import { borderMean, shouldInvert } from './polarity.ts';
import { RowResizer, type ResizeMode } from './resize.ts';

/** What was done to an uploaded image before inference; :classify answers carry it. */
export interface ImagePreprocessing {
  /** Source [height, width] → model [H, W], and the filter ('none' when the sizes are equal). */
  resized: { from: [number, number]; to: [number, number]; mode: ResizeMode | 'none' };
  /** Model channels: 1 = BT.601 luma, 3 = RGB. Alpha is dropped. */
  channels: 1 | 3;
  /** The model's input background (model.json input.background). */
  background: InputBackground;
  /** Mean luma of the image's 1-pixel border, in [0, 1] (4 decimals). */
  borderMean: number;
  /** True when the image was inverted (v → 1 − v) to match the background. */
  inverted: boolean;
}

/**
 * Decodes an image and converts it to the model's [C, H, W] in [0, 1] (C must be 1 or 3): size limits from the
 * header, then polarity (inverted when its border contradicts `background`), channels and resize streamed one
 * row at a time, so only the decoded RGBA (bounded by maxPixels) and the output are ever whole in memory.
 * `background` is the model's (inputBackground(manifest)); `name` starts every error message.
 */
export function imageToInput(
  bytes: Uint8Array,
  inputShape: readonly number[],
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
  background: InputBackground = 'any',
  name = 'image',
): { x: Float32Array; preprocessing: ImagePreprocessing } {
  const [c, h, w] = inputShape;
  if (inputShape.length !== 3 || (c !== 1 && c !== 3))
    throw new RangeError(
      `model input [${inputShape.join(', ')}] is not an image of 1 or 3 channels`,
    );
  const img = decodeImage(bytes, name, limits);
  const mean = borderMean(img.rgba, img.width, img.height);
  const inverted = shouldInvert(background, mean);
  const resizer = new RowResizer(c, img.height, img.width, h, w);
  const row = new Float32Array(c * img.width);
  for (let y = 0; y < img.height; y++) {
    channelsRow(img.rgba, img.width, y, c, row, inverted);
    resizer.push(row);
  }
  const same = img.height === h && img.width === w;
  return {
    x: resizer.finish(),
    preprocessing: {
      resized: { from: [img.height, img.width], to: [h, w], mode: same ? 'none' : resizer.mode },
      channels: c,
      background,
      borderMean: Math.round(mean * 1e4) / 1e4,
      inverted,
    },
  };
}

// The worker task behind serving: one request's defended logits (random GI drawn from its request seed), from
// tensor rows or from one encoded PNG/JPEG decoded and resized here, so the server's request thread never
// computes. Client-caused failures (a corrupt or oversized image) come back as data, not as worker errors.
import { noGrad } from '../autodiff/grad.ts';
import { getBackend } from '../backend/index.ts';
import { decodeImage, toChannels } from '../data/image-decode.ts';
import { resizeCHW } from '../data/resize.ts';
import { DefendedModel } from '../defense/defended-model.ts';
import type { GiStage } from '../defense/defense-spec.ts';
import type { Sequential } from '../nn/sequential.ts';
import { Tensor } from '../tensor/tensor.ts';

/** The random GI stage of a served model and the seed of this request (DESIGN section 1.2). */
export interface RandomDraw {
  stage: Extract<GiStage, { kind: 'random' }>;
  seed: number;
}

/** What one request sends: N rows of the model's input shape, or one encoded image. */
export type DefendedInput =
  | { x: Float32Array; n: number }
  | { image: Uint8Array; maxPixels: number };

export interface DefendedTask {
  kind: 'defendedForward';
  model: string;
  input: DefendedInput;
  random: RandomDraw | null;
}

export type DefendedResult =
  | { kind: 'defendedForward'; logits: Float32Array; n: number; backend: string }
  /** The input was the client's fault: the server answers `status` with `error`. */
  | { kind: 'defendedForward'; clientError: string; status: 400 | 413 };

/** Decodes an image and converts it to the model's [C, H, W] in [0, 1] (C must be 1 or 3). */
export function imageToInput(bytes: Uint8Array, inputShape: readonly number[], maxPixels: number): Float32Array {
  const [c, h, w] = inputShape;
  if (inputShape.length !== 3 || (c !== 1 && c !== 3)) throw new RangeError(`model input [${inputShape.join(', ')}] is not an image of 1 or 3 channels`);
  const img = decodeImage(bytes, 'request body', { maxPixels });
  return resizeCHW(toChannels(img.rgba, img.width, img.height, c), c, img.height, img.width, h, w);
}

/**
 * Runs one request on `network`. The whole batch stays on one worker: the random stage's per-row scales
 * count rows from 0 and its weight noise is drawn once per request, exactly as DefendedModel.forward does.
 */
export function runDefended(network: Sequential, input: DefendedInput, random: RandomDraw | null): DefendedResult {
  let x: Float32Array, n: number;
  if ('image' in input) {
    try {
      x = imageToInput(input.image, network.inputShape, input.maxPixels);
    } catch (e) {
      const message = (e as Error).message;
      // The decoder refuses big images from their header, before inflating them: that is 413, not 400.
      return { kind: 'defendedForward', clientError: message, status: /pixel limit|limit exceeded/.test(message) ? 413 : 400 };
    }
    n = 1;
  } else ({ x, n } = input);
  const spec = random ? { stages: [random.stage], source: { name: '', weightsSha256: '', hashed: false } } : null;
  const model = new DefendedModel(network, spec);
  const logits = noGrad(() => model.forward(new Tensor([n, ...network.inputShape], x), random?.seed));
  return { kind: 'defendedForward', logits: Float32Array.from(logits.data), n, backend: getBackend().name };
}

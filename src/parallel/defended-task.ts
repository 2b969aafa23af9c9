// The worker task behind serving: one request's defended logits (random GI drawn from its request seed), from
// tensor rows or from one encoded PNG/JPEG decoded, polarity-matched and resized here, so the server's request
// thread never computes. Client-caused failures (a corrupt or oversized image) come back as data, not as errors.
import { noGrad } from '../autodiff/index.ts';
import { getBackend } from '../backend/index.ts';
import {
  channelsRow,
  decodeImage,
  ImageLimitError,
  type ImageLimits,
  borderMean,
  shouldInvert,
  RowResizer,
  type ResizeMode,
} from '../data/index.ts';
import { DefendedModel, type GiStage } from '../defense/index.ts';
import { fingerprint, type FingerprintParams } from '../hash/index.ts';
import type { InputBackground, Sequential } from '../nn/index.ts';
import { argmaxRow, Tensor } from '../tensor/index.ts';
import { radiusBracket, type BoundMethod, type Randomness } from '../verify/index.ts';

/** The random GI stage of a served model and the seed of this request (DESIGN section 1.2). */
export interface RandomDraw {
  stage: Extract<GiStage, { kind: 'random' }>;
  seed: number;
}

/**
 * What one request sends: N rows of the model's input shape, or one encoded image with the server's size
 * limits (checked from its header before decoding) and the model's input background (default 'any').
 */
export type DefendedInput = (
  | { x: Float32Array; n: number }
  | { image: Uint8Array; maxPixels: number; maxSide: number; background?: InputBackground }
) & {
  /** Fingerprint every row of the preprocessed input too (the server's query-attack detector). */
  fingerprint?: FingerprintParams;
  /** Certify each row's answer too: its certified L∞ radius by bisection, within a compute budget. */
  certify?: CertifyRequest;
};

/** How the rows' certified radii are searched (src/verify). */
export interface CertifyRequest {
  method: BoundMethod;
  /** Milliseconds of certification per request; rows not reached get null. */
  budgetMs: number;
  /** The model's input range (the ball is clipped to it). */
  range: [number, number];
  /** What the answer's random stage may do, covered by every certificate. */
  randomness: Randomness;
}

/** Each row's certified radius (null where the budget ran out first) and the radius found not certified. */
export interface RowCertificates {
  radius: (number | null)[];
  notCertified: (number | null)[];
  spentMs: number;
}

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

export interface DefendedTask {
  kind: 'defendedForward';
  model: string;
  input: DefendedInput;
  random: RandomDraw | null;
}

export type DefendedResult =
  | {
      kind: 'defendedForward';
      logits: Float32Array;
      n: number;
      backend: string;
      preprocessing?: ImagePreprocessing;
      /** One fingerprint per row, when the input asked for them. */
      fingerprints?: Uint32Array[];
      /** Each row's certificate, when the input asked for them. */
      certificates?: RowCertificates;
    }
  /** The input was the client's fault: the server answers `status` with `error`. */
  | { kind: 'defendedForward'; clientError: string; status: 400 | 413 };

/**
 * Decodes an image and converts it to the model's [C, H, W] in [0, 1] (C must be 1 or 3): size limits from the
 * header, then polarity (inverted when its border contradicts `background`), channels and resize streamed one
 * row at a time, so only the decoded RGBA (bounded by maxPixels) and the output are ever whole in memory.
 */
export function imageToInput(
  bytes: Uint8Array,
  inputShape: readonly number[],
  limits: ImageLimits,
  background: InputBackground = 'any',
): { x: Float32Array; preprocessing: ImagePreprocessing } {
  const [c, h, w] = inputShape;
  if (inputShape.length !== 3 || (c !== 1 && c !== 3))
    throw new RangeError(
      `model input [${inputShape.join(', ')}] is not an image of 1 or 3 channels`,
    );
  const img = decodeImage(bytes, 'request body', limits);
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

/**
 * Runs one request on `network`. The whole batch stays on one worker: the random stage's per-row scales
 * count rows from 0 and its weight noise is drawn once per request, exactly as DefendedModel.forward does.
 */
export function runDefended(
  network: Sequential,
  input: DefendedInput,
  random: RandomDraw | null,
): DefendedResult {
  let x: Float32Array, n: number, preprocessing: ImagePreprocessing | undefined;
  if ('image' in input) {
    try {
      ({ x, preprocessing } = imageToInput(
        input.image,
        network.inputShape,
        { maxPixels: input.maxPixels, maxSide: input.maxSide },
        input.background,
      ));
    } catch (e) {
      // An image over a size limit is refused from its header, before decoding: 413. Anything else is 400.
      return {
        kind: 'defendedForward',
        clientError: (e as Error).message,
        status: e instanceof ImageLimitError ? 413 : 400,
      };
    }
    n = 1;
  } else ({ x, n } = input);
  const spec = random
    ? { stages: [random.stage], source: { name: '', weightsSha256: '', hashed: false } }
    : null;
  const model = new DefendedModel(network, spec);
  const logits = noGrad(() =>
    model.forward(new Tensor([n, ...network.inputShape], x), random?.seed),
  );
  const answered = Float32Array.from(logits.data);
  return {
    kind: 'defendedForward',
    logits: answered,
    n,
    backend: getBackend().name,
    ...(preprocessing ? { preprocessing } : {}),
    ...(input.fingerprint
      ? { fingerprints: rowFingerprints(x, n, network.inputShape, input.fingerprint) }
      : {}),
    ...(input.certify
      ? { certificates: rowCertificates(network, x, n, answered, input.certify) }
      : {}),
  };
}

/**
 * Each row's certified radius for the label it was answered, by bisection (10⁻³ to 1, 10 steps: within 0.7%) until the
 * request's budget is spent: a row reached late keeps a wider bracket, a row not reached gets null.
 */
function rowCertificates(
  network: Sequential,
  x: Float32Array,
  n: number,
  logits: Float32Array,
  c: CertifyRequest,
): RowCertificates {
  const t0 = performance.now();
  const stop = () => performance.now() - t0 >= c.budgetMs;
  const d = x.length / n,
    k = logits.length / n;
  const out: RowCertificates = { radius: [], notCertified: [], spentMs: 0 };
  for (let i = 0; i < n; i++) {
    if (stop()) {
      out.radius.push(null);
      out.notCertified.push(null);
      continue;
    }
    const b = radiusBracket(network, x.subarray(i * d, (i + 1) * d), argmaxRow(logits, i * k, k), {
      method: c.method,
      range: c.range,
      randomness: c.randomness,
      min: 1e-3,
      max: 1,
      steps: 10,
      stop,
    });
    out.radius.push(b.radius);
    out.notCertified.push(Number.isFinite(b.notCertified) ? b.notCertified : null);
  }
  out.spentMs = performance.now() - t0;
  return out;
}

/** The fingerprint of each of the n rows of x, as the model sees them (after any image preprocessing). */
function rowFingerprints(
  x: Float32Array,
  n: number,
  shape: readonly number[],
  p: FingerprintParams,
): Uint32Array[] {
  const d = x.length / n;
  return Array.from({ length: n }, (_, i) => fingerprint(x.subarray(i * d, (i + 1) * d), shape, p));
}

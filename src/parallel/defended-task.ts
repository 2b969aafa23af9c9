// The worker task behind serving: one request's defended logits (random GI drawn from its request seed), from
// tensor rows or from one encoded PNG/JPEG decoded, polarity-matched and resized here, so the server's request
// thread never computes. Client-caused failures (a corrupt or oversized image) come back as data, not as errors.
import { noGrad } from '../autodiff/index.ts';
import { getBackend } from '../backend/index.ts';
import { ImageLimitError, imageToInput, type ImagePreprocessing } from '../data/index.ts';
import { DefendedModel, type GiStage } from '../defense/index.ts';
import { fingerprint, type FingerprintParams } from '../hash/index.ts';
import type { InputBackground, Sequential } from '../nn/index.ts';
import { argmaxRow, Tensor } from '../tensor/index.ts';
import { radiusBracket, type BoundMethod, type Randomness } from '../verify/index.ts';

export { imageToInput, type ImagePreprocessing };

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

export interface DefendedTask {
  kind: 'defendedForward';
  model: string;
  input: DefendedInput;
  random: RandomDraw | null;
  /** Send the fingerprints alone as soon as they are taken, not in the result (protocol.ts, Reply). */
  early?: boolean;
}

export type DefendedResult =
  | {
      kind: 'defendedForward';
      logits: Float32Array;
      n: number;
      backend: string;
      preprocessing?: ImagePreprocessing;
      /** One fingerprint per row, when the input asked for them and the caller did not take them early. */
      fingerprints?: Uint32Array[];
      /** Each row's certificate, when the input asked for them. */
      certificates?: RowCertificates;
    }
  /** The input was the client's fault: the server answers `status` with `error`. */
  | { kind: 'defendedForward'; clientError: string; status: 400 | 413 };

/**
 * Runs one request on `network`. The whole batch stays on one worker: the random stage's per-row scales
 * count rows from 0 and its weight noise is drawn once per request, exactly as DefendedModel.forward does.
 * Fingerprints (when asked) are taken before the model runs; with `early` they are handed to it at once,
 * instead of in the result, so the caller can match them while the model runs.
 */
export function runDefended(
  network: Sequential,
  input: DefendedInput,
  random: RandomDraw | null,
  early?: (fingerprints: Uint32Array[]) => void,
): DefendedResult {
  let x: Float32Array, n: number, preprocessing: ImagePreprocessing | undefined;
  if ('image' in input) {
    try {
      ({ x, preprocessing } = imageToInput(
        input.image,
        network.inputShape,
        { maxPixels: input.maxPixels, maxSide: input.maxSide },
        input.background,
        'request body',
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
  const fingerprints = input.fingerprint
    ? rowFingerprints(x, n, network.inputShape, input.fingerprint)
    : undefined;
  if (fingerprints && early) early(fingerprints);
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
    ...(fingerprints && !early ? { fingerprints } : {}),
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

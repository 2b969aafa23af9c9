// Retraining-free gradient inhibition (Liu & Wen, docs/design.md §1.2) as real edits of a trained model's
// parameters: `magnitude` and `scale` return new weights; `random` draws its per-query logit scales and
// last-layer weight noise from the counter RNG, so a request seed fixes every number on any backend.
import { deriveStream, normal, uniform } from '../hash/index.ts';
import { isWeighted, type LayerSpec } from '../nn/index.ts';
import { Tensor } from '../tensor/index.ts';
import type { GiStage } from './defense-spec.ts';

type Params = ReadonlyMap<string, Tensor>;

const isFullyConnected = (l: LayerSpec) => l.type === 'dense' || l.type === 'hashed-dense';

/** The last layer with weights (the one producing the logits). */
export function lastWeighted(
  layers: readonly LayerSpec[],
): Extract<LayerSpec, { weight: string; bias: string }> {
  const last = [...layers].reverse().find(isWeighted);
  if (!last) throw new Error('gradient inhibition: the model has no weighted layer');
  return last;
}

/** A copy of params with each tensor named in `names` replaced by f(value, index) of its values (same shape). */
function mapParams(
  params: Params,
  names: readonly string[],
  f: (v: number, i: number) => number,
): Map<string, Tensor> {
  const out = new Map(params);
  for (const name of names) {
    const t = params.get(name)!;
    out.set(name, new Tensor(t.shape, Float32Array.from(t.data, f)));
  }
  return out;
}

/** W ← W + ε·sign(W) for the stored weights of every fully connected layer (biases untouched). */
export function applyMagnitude(
  layers: readonly LayerSpec[],
  params: Params,
  eps: number,
): Map<string, Tensor> {
  const weights = layers.flatMap((l) => (isFullyConnected(l) && 'weight' in l ? [l.weight] : []));
  return mapParams(params, weights, (v) => v + eps * Math.sign(v));
}

/** Layers that commute with a positive scale (f(α·z) = α·f(z)): the only ones `scale` may have after it. */
const HOMOGENEOUS = new Set(['relu', 'leaky-relu', 'maxpool2d', 'avgpool2d', 'flatten']);

/**
 * Last layer W, b ← α·W, α·b. Every logit is multiplied by α > 0, so no prediction changes. Refused when a
 * layer that does not commute with the scale follows (sigmoid, tanh, clip, affine: an imported model's tail),
 * since the logits would then not be scaled and the edit would be another model.
 */
export function applyScale(
  layers: readonly LayerSpec[],
  params: Params,
  alpha: number,
): Map<string, Tensor> {
  const last = lastWeighted(layers);
  for (let i = layers.indexOf(last) + 1; i < layers.length; i++)
    if (!HOMOGENEOUS.has(layers[i].type))
      throw new Error(
        `gradient inhibition: scale needs the logits to scale with the last weighted layer, but layers[${i}] (${layers[i].type}) follows it`,
      );
  return mapParams(params, [last.weight, last.bias], (v) => v * alpha);
}

/** Applies the static stages in order (random stages are left for query time). */
export function applyStaticStages(
  layers: readonly LayerSpec[],
  params: Params,
  stages: readonly GiStage[],
): Map<string, Tensor> {
  let p = new Map(params);
  for (const s of stages) {
    if (s.kind === 'magnitude') p = applyMagnitude(layers, p, s.eps);
    else if (s.kind === 'scale') p = applyScale(layers, p, s.alpha);
  }
  return p;
}

const SCALE_TAG = 0x67697363; // 'gisc'
const NOISE_TAG = 0x67696e7a; // 'ginz'

/** α_i = alphaMin + (alphaMax − alphaMin)·u_i for rows i of a request, u_i = uniform(stream(seed), i). */
export function randomLogitScales(
  stage: Extract<GiStage, { kind: 'random' }>,
  requestSeed: number,
  rows: number,
): Float32Array {
  const stream = deriveStream(requestSeed, SCALE_TAG);
  return Float32Array.from({ length: rows }, (_, i) =>
    Math.fround(stage.alphaMin + (stage.alphaMax - stage.alphaMin) * uniform(stream, i)),
  );
}

/** Last-layer real weights × (1 + noise·N(0, 1)) elementwise (the same draw for every row of a request). */
export function noisyLastLayer(
  layers: readonly LayerSpec[],
  params: Params,
  stage: Extract<GiStage, { kind: 'random' }>,
  requestSeed: number,
): Map<string, Tensor> {
  if (stage.noise === 0) return new Map(params);
  const last = lastWeighted(layers);
  const stream = deriveStream(requestSeed, NOISE_TAG);
  return mapParams(
    params,
    [last.weight],
    (v, i) => v * Math.fround(1 + stage.noise * normal(stream, i)),
  );
}

/**
 * One request's draw of the `random` stage: the parameters with the noisy last layer and the per-row logit
 * scales [rows, 1] the logits are multiplied by. The only place the draw is made (DefendedModel, and through
 * it the worker task, call this), so every engine answers a seed with the same numbers.
 */
export function randomDraw(
  layers: readonly LayerSpec[],
  params: Params,
  stage: Extract<GiStage, { kind: 'random' }>,
  requestSeed: number,
  rows: number,
): { params: Map<string, Tensor>; scales: Tensor } {
  return {
    params: noisyLastLayer(layers, params, stage, requestSeed),
    scales: new Tensor([rows, 1], randomLogitScales(stage, requestSeed, rows)),
  };
}

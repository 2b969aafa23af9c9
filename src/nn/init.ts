// Seeded parameter initialization: He-uniform weights (ReLU networks) and zero biases, from the counter RNG.
import { deriveStream, uniform } from '../hash/index.ts';
import { Tensor, sizeOf } from '../tensor/index.ts';
import { fanIn, isWeighted, layerTensors, type LayerSpec } from './layer-spec.ts';

/**
 * Initial parameters: weights ~ U(−√(6/fanIn), √(6/fanIn)) (He et al. 2015, uniform form), biases 0.
 * Layer i draws from stream deriveStream(seed, i), so adding a layer never shifts another's weights.
 * Hashed layers draw their K real weights with the same bound: each virtual entry is ±one real weight,
 * so the virtual matrix gets the variance He et al. prescribe for its (virtual) fan-in.
 */
export function initParams(layers: readonly LayerSpec[], seed: number): Map<string, Tensor> {
  const params = new Map<string, Tensor>();
  layers.forEach((spec, i) => {
    if (!isWeighted(spec)) return;
    const [w, b] = layerTensors(spec);
    const bound = Math.sqrt(6 / fanIn(spec));
    const stream = deriveStream(seed, i);
    const data = new Float32Array(sizeOf(w.shape));
    for (let k = 0; k < data.length; k++) data[k] = (2 * uniform(stream, k) - 1) * bound;
    params.set(w.name, new Tensor(w.shape, data));
    if (b) params.set(b.name, new Tensor(b.shape, new Float32Array(sizeOf(b.shape))));
  });
  return params;
}

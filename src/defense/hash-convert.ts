// Dense → hashed conversion (docs/design.md §1.1): the least-squares projection of a trained dense weight
// onto the HashedNets buckets, w[k] = mean over bucket k of sign·V, then optional fine-tuning by the trainer.
import { hashTable } from '../hash/index.ts';
import {
  isWeighted,
  virtualWeightShape,
  type LayerSpec,
  hashLayers,
  type Compressions,
} from '../nn/index.ts';
import { Tensor } from '../tensor/index.ts';

/**
 * Real weights minimizing ‖V − sign⊙w[bucket]‖² for a [rows, cols] matrix V: since every sign is ±1,
 * each bucket's optimum is the mean of sign·V over its entries (0 for an empty bucket).
 */
export function projectToBuckets(
  virtual: Tensor,
  rows: number,
  cols: number,
  seed: number,
  buckets: number,
): Tensor {
  const table = hashTable(rows, cols, seed, buckets);
  const sum = new Float64Array(buckets);
  const count = new Uint32Array(buckets);
  for (let e = 0; e < rows * cols; e++) {
    sum[table.bucket[e]] += table.sign[e] * virtual.data[e];
    count[table.bucket[e]]++;
  }
  const w = new Float32Array(buckets);
  for (let k = 0; k < buckets; k++) w[k] = count[k] ? sum[k] / count[k] : 0;
  return new Tensor([buckets], w);
}

/**
 * Converts a trained dense model: weighted layers with a compression become hashed (seeds[i] for the i-th
 * weighted layer), their real weights projected from the dense ones; biases and other layers are copied.
 */
export function convertToHashed(
  layers: readonly LayerSpec[],
  params: ReadonlyMap<string, Tensor>,
  compressions: Compressions,
  seeds: readonly number[],
): { layers: LayerSpec[]; params: Map<string, Tensor> } {
  if (layers.some((l) => l.type === 'hashed-dense' || l.type === 'hashed-conv2d'))
    throw new Error('convert: the source model is already hashed');
  const hashed = hashLayers(layers, compressions, seeds);
  const out = new Map(params);
  hashed.forEach((spec) => {
    if (!isWeighted(spec) || (spec.type !== 'hashed-dense' && spec.type !== 'hashed-conv2d'))
      return;
    const [rows, ...rest] = virtualWeightShape(spec);
    const dense = params.get(spec.weight);
    if (!dense) throw new Error(`convert: missing weight '${spec.weight}'`);
    out.set(
      spec.weight,
      projectToBuckets(
        dense,
        rows,
        rest.reduce((a, b) => a * b, 1),
        spec.hash.seed,
        spec.hash.buckets,
      ),
    );
  });
  return { layers: hashed, params: out };
}

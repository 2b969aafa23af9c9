// Turning layer specs into HashedNets specs: per-layer compression, bucket counts and hash seeds.
import { bucketsFor, deriveStream } from '../hash/index.ts';
import { isWeighted, virtualWeightShape, type LayerSpec } from './layer-spec.ts';

/** Compression per weighted layer, in layer order; null keeps that layer dense. */
export type Compressions = (number | null)[];

/**
 * Parses "1/8" (every weighted layer) or a comma list with one entry per weighted layer, each "1/N", a
 * decimal in (0, 1], or "dense". Errors name the bad entry.
 */
export function parseCompressions(text: string, weightedLayers: number): Compressions {
  const parts = text.split(',').map((s) => s.trim());
  const one = (p: string): number | null => {
    if (p === 'dense') return null;
    const m = /^1\/(\d+(?:\.\d+)?)$/.exec(p);
    const v = m ? 1 / Number(m[1]) : Number(p);
    if (!(v > 0 && v <= 1) || p === '')
      throw new Error(`compression '${p}': expected 1/N, a number in (0, 1], or 'dense'`);
    return v;
  };
  if (parts.length === 1) return Array.from({ length: weightedLayers }, () => one(parts[0]));
  if (parts.length !== weightedLayers)
    throw new Error(
      `compression list has ${parts.length} entries, the model has ${weightedLayers} weighted layers`,
    );
  return parts.map(one);
}

/** Default per-layer hash seeds: derived from the run's seed, so the same seed rebuilds the same model. */
export function derivedHashSeeds(seed: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => deriveStream(seed, 0x68617368 + i)); // 'hash'
}

/**
 * Replaces dense/conv2d layers by hashed-dense/hashed-conv2d ones with K = ceil(c·n_in·n_out) buckets.
 * `seeds[i]` is the hash seed of the i-th weighted layer (kept secret for the defensive boundary).
 */
export function hashLayers(
  layers: readonly LayerSpec[],
  compressions: Compressions,
  seeds: readonly number[],
): LayerSpec[] {
  let w = 0;
  return layers.map((spec) => {
    if (!isWeighted(spec)) return spec;
    const c = compressions[w];
    const seed = seeds[w] >>> 0;
    w++;
    if (c === null || c === undefined) return spec;
    const [rows, ...rest] = virtualWeightShape(spec);
    const buckets = bucketsFor(
      c,
      rows,
      rest.reduce((a, b) => a * b, 1),
    );
    if (spec.type === 'dense') return { ...spec, type: 'hashed-dense', hash: { buckets, seed } };
    if (spec.type === 'conv2d') return { ...spec, type: 'hashed-conv2d', hash: { buckets, seed } };
    throw new Error(`layer '${spec.weight}' is already hashed`);
  });
}

/** Number of layers that own a weight (the length a compression list must have). */
export function weightedLayerCount(layers: readonly LayerSpec[]): number {
  return layers.filter(isWeighted).length;
}

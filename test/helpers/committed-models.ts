// The committed models, their accuracy targets (issue 2), and the fixed 1000-image test subset they are checked on.
import { deriveStream, permutation } from '../../src/hash/rng.ts';
import { join } from 'node:path';

export const REPO_ROOT = join(import.meta.dir, '../..');

export const COMMITTED_MODELS = [
  { name: 'mnist-mlp', dataset: 'mnist', minTestAccuracy: 0.978 },
  { name: 'mnist-lenet5', dataset: 'mnist', minTestAccuracy: 0.989 },
  { name: 'fashion-lenet5', dataset: 'fashion-mnist', minTestAccuracy: 0.89 },
] as const;

export const GOLDEN_FILE = join(REPO_ROOT, 'test/golden/committed-models.json');

/** The first 1000 indices of a seeded permutation of the 10,000-image test split (seed 1). */
export function goldenSubset(testCount: number): Uint32Array {
  return permutation(deriveStream(1, 0x676f6c64), testCount).slice(0, 1000);
}

/** How many leading subset images have their logits pinned. */
export const GOLDEN_LOGIT_ROWS = 4;

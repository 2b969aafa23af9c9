// Seeded test subsets and committed models for the attack tests.
import { loadDataset } from '../../src/data/node.ts';
import { deriveStream, permutation } from '../../src/hash/rng.ts';
import { loadModelDir } from '../../src/io/model-dir.ts';
import { gatherBatch } from '../../src/nn/batches.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { REPO_ROOT } from './committed-models.ts';
import { join } from 'node:path';

/** A committed model as a Sequential. */
export async function committedModel(name: string): Promise<Sequential> {
  const { manifest, tensors } = await loadModelDir(join(REPO_ROOT, 'models', name));
  return new Sequential(manifest.input.shape, manifest.layers, tensors);
}

/** The first n images of a seeded permutation of the MNIST test split (seed 1, as the audit does). */
export async function mnistSubset(n: number): Promise<{ x: Tensor; y: Tensor }> {
  const { test } = await loadDataset('mnist');
  const order = permutation(deriveStream(1, 0x61747461), test.count).slice(0, n); // 'atta'
  return gatherBatch(test, order, 0, n);
}

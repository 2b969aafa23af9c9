// hashguard for Bun, Deno and Node: the pure core (index.ts) plus what needs files or a server: models and
// checkpoints on disk, the datasets' loaders, atomic writes, and the HTTP app (createApp; src/serve/bun.ts,
// deno.ts and node.ts listen).
import type { HardenedModel } from './defense/index.ts';
import { withDefense } from './index.ts';
import { loadModelDir } from './io/index.ts';
import { modelFromFile, type LoadedModel } from './nn/index.ts';

export * from './index.ts';
export {
  loadModelDir,
  saveModelDir,
  writeFileAtomic,
  readFileOrThrow,
  loadCheckpoint,
  saveCheckpoint,
} from './io/index.ts';
export {
  loadDataset,
  loadMnist,
  loadFashionMnist,
  loadCifar10Binary,
  loadCifar10Jpeg,
  loadImageFolder,
  loadImageTree,
  type LoadDatasetOptions,
  type ImageTreeOptions,
} from './data/node.ts';
export { createApp } from './serve/index.ts';

/**
 * Loads models/<name>/ (model.json + weights.safetensors), verifying checksum, dtypes and shapes. A defended
 * model comes back with `defended`, whose random GI stage (if any) draws per call from a secret taken from
 * crypto.getRandomValues, so its answers cannot be replayed from outside.
 */
export async function loadModel(dir: string): Promise<LoadedModel | HardenedModel> {
  const { manifest, tensors } = await loadModelDir(dir);
  return withDefense(manifest, modelFromFile(manifest, tensors));
}

// A model directory on disk: model.json + weights.safetensors (docs/design.md §3), written atomically and verified
// on load. The format logic is pure and lives in src/nn/model-file.ts.
import { join } from 'node:path';
import type { Tensor } from '../tensor/index.ts';
import {
  MANIFEST_FILE,
  WEIGHTS_FILE,
  ModelFileError,
  type ModelManifest,
  type ModelManifestDraft,
  decodeModel,
  encodeModel,
} from '../nn/index.ts';
import { readFileOrThrow, writeFileAtomic } from './files.ts';

/**
 * Saves a model into `dir` (created if needed) and returns the manifest as written. Everything is validated
 * before the first write. NOTE: weights go first and model.json last, so a crash in between leaves the old
 * model.json, whose sha256 no longer matches: the next load fails loudly instead of mixing two models.
 */
export async function saveModelDir(
  dir: string,
  draft: ModelManifestDraft,
  tensors: Map<string, Tensor> | Record<string, Tensor>,
): Promise<ModelManifest> {
  const { manifest, manifestJson, weights } = await encodeModel(draft, tensors);
  await writeFileAtomic(join(dir, WEIGHTS_FILE), weights);
  await writeFileAtomic(join(dir, MANIFEST_FILE), manifestJson);
  return manifest;
}

/** Loads and verifies a model directory (schema, sha256, safetensors structure, shapes against layers). */
export async function loadModelDir(
  dir: string,
): Promise<{ manifest: ModelManifest; tensors: Map<string, Tensor> }> {
  const manifestBytes = await readFileOrThrow(join(dir, MANIFEST_FILE), 'model manifest');
  let manifestText: string;
  try {
    manifestText = new TextDecoder('utf-8', { fatal: true }).decode(manifestBytes);
  } catch {
    throw new ModelFileError(join(dir, MANIFEST_FILE), '(encoding)', 'not valid UTF-8');
  }
  const weights = await readFileOrThrow(join(dir, WEIGHTS_FILE), 'model weights');
  return decodeModel(manifestText, weights, dir);
}

// A loaded model: the manifest (model.json) together with the Sequential network it describes.
import type { ModelManifest } from './model-file.ts';
import { Sequential } from './sequential.ts';
import type { Tensor } from '../tensor/index.ts';

export interface LoadedModel {
  manifest: ModelManifest;
  network: Sequential;
}

/** Builds the network of a decoded model file (shapes are re-checked by Sequential). */
export function modelFromFile(manifest: ModelManifest, tensors: Map<string, Tensor>): LoadedModel {
  return { manifest, network: new Sequential(manifest.input.shape, manifest.layers, tensors) };
}

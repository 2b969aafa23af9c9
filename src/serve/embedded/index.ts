// Models carried in the code rather than read from disk (the Deno Deploy entry, the single binary): what
// scripts/embed-model.ts writes, the checked loader (sha256 of both files before anything is decoded), and the
// server's default model, embedded.
import { sha256Hex } from '../../hash/index.ts';
import { decodeModel, modelFromFile, type LoadedModel } from '../../nn/index.ts';

/** The server's default model (DEFAULT_MODEL in config.ts), embedded by scripts/embed-model.ts. */
export { EMBEDDED_MODEL as DEFAULT_EMBEDDED_MODEL } from './default-model.ts';

/** The object an embedded-model module exports: model.json's text and the weights file in base64. */
export interface EmbeddedModel {
  /** The model directory's name, which is also the name it is served under. */
  readonly name: string;
  /** model.json, exactly as the file holds it. */
  readonly manifest: string;
  readonly manifestSha256: string;
  /** weights.safetensors in base64. */
  readonly weightsBase64: string;
  readonly weightsSha256: string;
}

/** An embedded copy that does not match its recorded checksums (edited, truncated, or badly merged). */
export class EmbeddedModelError extends Error {
  override name = 'EmbeddedModelError';
}

/** Standard base64 to bytes, by atob, which Bun, Deno, Node, browsers and edge workers all have. */
function fromBase64(text: string, label: string): Uint8Array {
  let bin: string;
  try {
    bin = atob(text);
  } catch {
    throw new EmbeddedModelError(`${label}: weightsBase64 is not valid base64`);
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The embedded copy's two files as bytes, each checked against its recorded sha256. */
export async function embeddedFiles(
  m: EmbeddedModel,
): Promise<{ manifest: Uint8Array; weights: Uint8Array }> {
  const label = `embedded model '${m.name}'`;
  const manifest = new TextEncoder().encode(m.manifest);
  const weights = fromBase64(m.weightsBase64, label);
  for (const [file, bytes, expected] of [
    ['model.json', manifest, m.manifestSha256],
    ['weights.safetensors', weights, m.weightsSha256],
  ] as const) {
    const actual = await sha256Hex(bytes);
    if (actual !== expected)
      throw new EmbeddedModelError(
        `${label}: ${file} has sha256 ${actual}, expected ${expected}: the embedded copy is corrupt; ` +
          'regenerate it with scripts/embed-model.ts',
      );
  }
  return { manifest, weights };
}

/**
 * The embedded model, loaded as a model directory would be: checksums first (a clear EmbeddedModelError),
 * then the manifest schema, safetensors structure and shapes (decodeModel's ModelFileError).
 */
export async function loadEmbeddedModel(m: EmbeddedModel): Promise<LoadedModel> {
  const { weights } = await embeddedFiles(m);
  const { manifest, tensors } = await decodeModel(m.manifest, weights, `embedded:${m.name}`);
  return modelFromFile(manifest, tensors);
}

// hashguard's pure core, for browsers, edge workers and servers alike: tensors, autodiff, models (decode from
// bytes, predict, train), the defense (harden), attacks, certificates and the audit's computation. No file access and no
// runtime global: files, datasets on disk and the server app are the node door's (node.ts).
import {
  DefendedModel,
  defenseSpecSchema,
  type DefenseSpec,
  type HardenedModel,
} from './defense/index.ts';
import { decodeModel, modelFromFile, type LoadedModel } from './nn/index.ts';
import { argmaxRows, Tensor } from './tensor/index.ts';

export { Tensor, tensor, zeros, full, scalar } from './tensor/index.ts';
export type { Backend } from './tensor/index.ts';
export { getBackend, setBackend, withBackend, referenceBackend } from './backend/index.ts';
/** The WebAssembly kernels as a module the platform compiled (Cloudflare Workers); see docs/edge.md. */
export { useKernelsModule } from './backend/index.ts';
/** HASHGUARD_BACKEND=cpu|webgpu|auto → the backend and its adapter (`await selectBackend()`, then setBackend(s.backend)). */
export {
  selectBackend,
  describeBackend,
  type BackendChoice,
  type BackendSelection,
} from './backend/index.ts';
export { ops } from './autodiff/index.ts';
export { grad, valueAndGrad, gradients, noGrad } from './autodiff/index.ts';
export { Sequential } from './nn/index.ts';
export { architecture, mlp, lenet5, cnn, smallCnn, ibpSmall } from './nn/index.ts';
export { initParams } from './nn/index.ts';
export { adam, sgd } from './nn/index.ts';
export { trainEpoch } from './nn/index.ts';
export {
  parseAdversarial,
  adversarialExamples,
  adversarialLossGradients,
  pgdAccuracy,
  type AdversarialSpec,
} from './nn/index.ts';
export { accuracy } from './nn/index.ts';
export { crossEntropyLoss } from './nn/index.ts';
export type { ModelManifest } from './nn/index.ts';
export type { LoadedModel } from './nn/index.ts';
export {
  BOUND_METHODS,
  certifiedRadius,
  certify,
  inputBox,
  intervalBounds,
  outputBounds,
  radiusBracket,
  type BoundMethod,
  type Box,
  type Certificate,
  type CertifyOptions,
  type RadiusBracket,
} from './verify/index.ts';
export {
  syntheticDataset,
  validationSplit,
  type Dataset,
  type DatasetSplits,
} from './data/index.ts';
/**
 * An encoded PNG or JPEG as one input of a model: decoded within size limits, inverted when its polarity
 * contradicts the model's background, converted to its channels and resized to its H×W. For a loaded model:
 * `imageToInput(bytes, m.manifest.input.shape, undefined, inputBackground(m.manifest)).x`, then predict.
 */
export {
  imageToInput,
  DEFAULT_IMAGE_LIMITS,
  type ImageLimits,
  type ImagePreprocessing,
} from './data/index.ts';
export { inputBackground, type InputBackground } from './nn/index.ts';

/**
 * A model from the bytes of its two files (model.json and weights.safetensors, fetched or read by the caller),
 * verifying checksum, dtypes and shapes (`label` names the source in errors). A defended model comes back with `defended`, whose random GI stage (if
 * any) draws per call from a secret taken from crypto.getRandomValues, so its answers cannot be replayed.
 */
export async function modelFromBytes(
  manifestJson: string | Uint8Array,
  weights: Uint8Array,
  label = 'model',
): Promise<LoadedModel | HardenedModel> {
  const text =
    typeof manifestJson === 'string'
      ? manifestJson
      : new TextDecoder('utf-8', { fatal: true }).decode(manifestJson);
  const { manifest, tensors } = await decodeModel(text, weights, label);
  return withDefense(manifest, modelFromFile(manifest, tensors));
}

/** A loaded model with its DefenseSpec applied (a random stage drawing from a fresh secret), or as it is. */
export function withDefense(
  manifest: LoadedModel['manifest'],
  model: LoadedModel,
): LoadedModel | HardenedModel {
  if (!manifest.defense || !manifest.defense.stages.length) return model;
  const spec = defenseSpecSchema.parse(manifest.defense) as DefenseSpec;
  return {
    ...model,
    defended: new DefendedModel(model.network, spec, crypto.getRandomValues(new Uint32Array(1))[0]),
  };
}

/**
 * Class predictions for NCHW float32 images in [0, 1]: `images` holds N·C·H·W values for the model's
 * input shape. Returns the class index per image (argmax of logits, ties to the lowest index). A hardened
 * model answers through its defense (a random stage draws fresh per call).
 */
export function predict(model: LoadedModel | HardenedModel, images: Float32Array): Int32Array {
  const per = model.manifest.input.shape.reduce((a, b) => a * b, 1);
  if (images.length === 0 || images.length % per !== 0) {
    throw new Error(
      `predict: got ${images.length} values, not a positive multiple of one image (${per})`,
    );
  }
  const x = new Tensor([images.length / per, ...model.manifest.input.shape], images);
  if (!('defended' in model)) return model.network.predict(x);
  return Int32Array.from(argmaxRows(model.defended.forward(x)));
}

// Defense: gradient inhibition as parameter edits, the DefenseSpec, and the defended model attacks target.
export { DefendedModel } from './defense/index.ts';
export { harden, type HardenedModel, type HardenOptions } from './defense/index.ts';
export {
  parseGiStage,
  defenseSpecSchema,
  type DefenseSpec,
  type GiStage,
} from './defense/index.ts';
export { applyMagnitude, applyScale, applyStaticStages } from './defense/index.ts';
export { convertToHashed, projectToBuckets } from './defense/index.ts';

// Attacks: config in the constructor, target per call (`await new PGD({...}).run(new WhiteBox(model), x, y)`).
export {
  WhiteBox,
  ScoreOracle,
  LabelOracle,
  QueryBudgetExceeded,
  type Target,
  type Differentiable,
} from './attacks/index.ts';
export {
  successRate,
  robustAccuracy,
  median,
  type Attack,
  type AttackResult,
  type Budget,
} from './attacks/index.ts';
/**
 * A Target over a running hashguard server's public API (POST /v2/models/{m}/infer): scores or labels as the
 * deployment reveals them, one query per row, batches split to the server's limits, and the server's 429
 * (ServerBudgetExceeded) and 403 query_attack_detected (ServerDetectedAttack) raised as QueryBudgetExceeded so
 * attacks stop and report. `await HttpOracle.connect({ url, model, apiKey })`.
 */
export {
  HttpOracle,
  ServerBudgetExceeded,
  ServerDetectedAttack,
  type HttpOracleOptions,
  type ServedModelInfo,
  type FetchLike,
} from './attacks/index.ts';
export { FGSM } from './attacks/index.ts';
export { BIM } from './attacks/index.ts';
export { PGD } from './attacks/index.ts';
export { MIFGSM } from './attacks/index.ts';
export { CW } from './attacks/index.ts';
export { DeepFool } from './attacks/index.ts';
export { JSMA } from './attacks/index.ts';
export { APGD } from './attacks/index.ts';
export { APGDT } from './attacks/index.ts';
export { FAB } from './attacks/index.ts';
export {
  AutoAttack,
  autoAttack,
  type AutoAttackOptions,
  type AutoAttackResult,
} from './attacks/index.ts';
export { Square } from './attacks/index.ts';
export { HopSkipJump } from './attacks/index.ts';
export { Transfer } from './attacks/index.ts';
export { Substitute } from './attacks/index.ts';
export { EOT } from './attacks/index.ts';
export { BPDA } from './attacks/index.ts';
export { LogitRescale } from './attacks/index.ts';

// Audit: the robustness evaluation behind `bun run audit`, and its renderings.
export { runAudit, type AuditInput, type AuditModel } from './audit/index.ts';
export { trainingCost, type TrainingCost } from './audit/index.ts';
export { runRemoteAudit, type RemoteAuditInput } from './audit/index.ts';
export { remoteAuditMarkdown } from './audit/index.ts';
export { auditMarkdown } from './audit/index.ts';
export { auditHtml } from './audit/index.ts';

// ONNX: a user's model in (importOnnx: layers + parameters) and any hashguard model out (exportOnnx).
export {
  importOnnx,
  exportOnnx,
  OnnxError,
  SUPPORTED_OPS,
  type ImportedOnnx,
  type ImportOptions,
  type ExportOptions,
} from './onnx/index.ts';

// hashguard's public embedding API: tensors, autodiff, models (load, predict, train), data loaders, the
// defense (harden), attacks, the audit and the server app (createApp).
import { loadModelDir } from './io/model-dir.ts';
import { DefendedModel } from './defense/defended-model.ts';
import { defenseSpecSchema, type DefenseSpec } from './defense/defense-spec.ts';
import type { HardenedModel } from './defense/harden.ts';
import { modelFromFile, type LoadedModel } from './nn/model.ts';
import { Tensor } from './tensor/tensor.ts';

export { Tensor, tensor, zeros, full, scalar } from './tensor/tensor.ts';
export type { Backend } from './tensor/backend.ts';
export { getBackend, setBackend, withBackend, referenceBackend } from './backend/index.ts';
/** HASHGUARD_BACKEND=cpu|webgpu|auto → the backend and its adapter (`await selectBackend()`, then setBackend(s.backend)). */
export { selectBackend, describeBackend, type BackendChoice, type BackendSelection } from './backend/index.ts';
export * as ops from './autodiff/ops.ts';
export { grad, valueAndGrad, gradients, noGrad } from './autodiff/grad.ts';
export { Sequential } from './nn/sequential.ts';
export { architecture, mlp, lenet5, cnn, smallCnn } from './nn/architectures.ts';
export { initParams } from './nn/init.ts';
export { adam, sgd } from './nn/optimizers.ts';
export { trainEpoch } from './nn/train.ts';
export { parseAdversarial, adversarialExamples, adversarialLossGradients, pgdAccuracy, type AdversarialSpec } from './nn/adversarial.ts';
export { accuracy } from './nn/evaluate.ts';
export { crossEntropyLoss } from './nn/losses.ts';
export type { ModelManifest } from './nn/model-file.ts';
export type { LoadedModel } from './nn/model.ts';
export { saveModelDir } from './io/model-dir.ts';
export { loadDataset } from './data/node.ts';
export { syntheticDataset, validationSplit, type Dataset, type DatasetSplits } from './data/index.ts';

/**
 * Loads models/<name>/ (model.json + weights.safetensors), verifying checksum, dtypes and shapes. A defended
 * model comes back with `defended`, whose random GI stage (if any) draws per call from a secret taken from
 * crypto.getRandomValues, so its answers cannot be replayed from outside.
 */
export async function loadModel(dir: string): Promise<LoadedModel | HardenedModel> {
  const { manifest, tensors } = await loadModelDir(dir);
  const model = modelFromFile(manifest, tensors);
  if (!manifest.defense || !manifest.defense.stages.length) return model;
  const spec = defenseSpecSchema.parse(manifest.defense) as DefenseSpec;
  return { ...model, defended: new DefendedModel(model.network, spec, crypto.getRandomValues(new Uint32Array(1))[0]) };
}

/**
 * Class predictions for NCHW float32 images in [0, 1]: `images` holds N·C·H·W values for the model's
 * input shape. Returns the class index per image (argmax of logits, ties to the lowest index). A hardened
 * model answers through its defense (a random stage draws fresh per call).
 */
export function predict(model: LoadedModel | HardenedModel, images: Float32Array): Int32Array {
  const per = model.manifest.input.shape.reduce((a, b) => a * b, 1);
  if (images.length === 0 || images.length % per !== 0) {
    throw new Error(`predict: got ${images.length} values, not a positive multiple of one image (${per})`);
  }
  const x = new Tensor([images.length / per, ...model.manifest.input.shape], images);
  if (!('defended' in model)) return model.network.predict(x);
  const logits = model.defended.forward(x), k = logits.shape[1], out = new Int32Array(x.shape[0]);
  for (let i = 0; i < out.length; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (logits.data[i * k + j] > logits.data[i * k + best]) best = j;
    out[i] = best;
  }
  return out;
}

// Defense: gradient inhibition as parameter edits, the DefenseSpec, and the defended model attacks target.
export { DefendedModel } from './defense/defended-model.ts';
export { harden, type HardenedModel, type HardenOptions } from './defense/harden.ts';
export { parseGiStage, defenseSpecSchema, type DefenseSpec, type GiStage } from './defense/defense-spec.ts';
export { applyMagnitude, applyScale, applyStaticStages } from './defense/gradient-inhibition.ts';
export { convertToHashed, projectToBuckets } from './defense/hash-convert.ts';

// Attacks: config in the constructor, target per call (`await new PGD({...}).run(new WhiteBox(model), x, y)`).
export { WhiteBox, ScoreOracle, LabelOracle, QueryBudgetExceeded, type Target, type Differentiable } from './attacks/target.ts';
export { successRate, robustAccuracy, median, type Attack, type AttackResult, type Budget } from './attacks/types.ts';
/**
 * A Target over a running hashguard server's public API (POST /v2/models/{m}/infer): scores or labels as the
 * deployment reveals them, one query per row, batches split to the server's limits, and the server's 429
 * raised as QueryBudgetExceeded so attacks stop and report. `await HttpOracle.connect({ url, model, apiKey })`.
 */
export { HttpOracle, ServerBudgetExceeded, type HttpOracleOptions, type ServedModelInfo, type FetchLike } from './attacks/http-oracle.ts';
export { FGSM } from './attacks/fgsm.ts';
export { BIM } from './attacks/bim.ts';
export { PGD } from './attacks/pgd.ts';
export { MIFGSM } from './attacks/mifgsm.ts';
export { CW } from './attacks/cw-l2.ts';
export { DeepFool } from './attacks/deepfool.ts';
export { JSMA } from './attacks/jsma.ts';
export { APGD } from './attacks/apgd.ts';
export { APGDT } from './attacks/apgd-t.ts';
export { FAB } from './attacks/fab.ts';
export { AutoAttack, autoAttack, type AutoAttackOptions, type AutoAttackResult } from './attacks/autoattack.ts';
export { Square } from './attacks/square.ts';
export { HopSkipJump } from './attacks/hopskipjump.ts';
export { Transfer } from './attacks/transfer.ts';
export { Substitute } from './attacks/substitute.ts';
export { EOT } from './attacks/eot.ts';
export { BPDA } from './attacks/bpda.ts';
export { LogitRescale } from './attacks/rescale.ts';

// Audit: the robustness evaluation behind `bun run audit`, and its renderings.
export { runAudit, type AuditInput, type AuditModel } from './audit/run-audit.ts';
export { trainingCost, type TrainingCost } from './audit/training-cost.ts';
export { runRemoteAudit, type RemoteAuditInput } from './audit/remote-audit.ts';
export { remoteAuditMarkdown } from './audit/report-remote-markdown.ts';
export { auditMarkdown } from './audit/report-markdown.ts';
export { auditHtml } from './audit/report-html.ts';

// Serving: the Hono app (never listens; src/serve/bun.ts and deno.ts do).
export { createApp } from './serve/index.ts';

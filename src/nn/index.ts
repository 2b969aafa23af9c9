// Public door of src/nn: the Sequential model and its layer specs, architectures, hashed layers, initialisation,
// losses, optimizers, the training loop and adversarial training, batches and augmentation, evaluation, and the
// model file format (model.json + safetensors), pure (reading and writing files is src/io's).
export { Sequential } from './sequential.ts';
export { chainLayers, isChainLayer, type LossGradients, type Want } from './chain-runner.ts';
export { isWeighted, layerTensors, virtualWeightShape, type LayerSpec } from './layer-spec.ts';
export { layerOutputShape, virtualWeight } from './layers.ts';
export {
  ARCH_NAMES,
  architecture,
  mlp,
  lenet5,
  cnn,
  smallCnn,
  ibpSmall,
  type ArchName,
} from './architectures.ts';
export {
  derivedHashSeeds,
  hashLayers,
  parseCompressions,
  weightedLayerCount,
  type Compressions,
} from './hashed-layers.ts';
export { initParams } from './init.ts';
export { crossEntropyLoss } from './losses.ts';
export {
  adam,
  sgd,
  optimizerFromConfig,
  type Optimizer,
  type OptimizerConfig,
} from './optimizers.ts';
export {
  trainEpoch,
  type EpochPosition,
  type LrSchedule,
  type StepProgress,
  type TrainOptions,
} from './train.ts';
export {
  parseCertified,
  formatCertified,
  kappaAt,
  intervalLogits,
  intervalMargins,
  betaAt,
  certifiedLossGradients,
  type CertifiedSpec,
} from './certified.ts';
export {
  parseAdversarial,
  formatAdversarial,
  adversarialExamples,
  adversarialLossGradients,
  pgdAccuracy,
  type AdversarialSpec,
  type AdversarialStep,
  type BatchKey,
  type StepGradients,
} from './adversarial.ts';
export { parseAugment, type Augment } from './augment.ts';
export { gatherBatch, identityOrder, type ImageSet } from './batches.ts';
export { accuracy } from './evaluate.ts';
export {
  MANIFEST_FILE,
  WEIGHTS_FILE,
  ModelFileError,
  decodeModel,
  encodeModel,
  inputBackground,
  type InputBackground,
  type ModelManifest,
  type ModelManifestDraft,
  MAX_AFFINE_LENGTH,
} from './model-file.ts';
export { decodeSafetensors, encodeSafetensors } from './safetensors.ts';
export { modelFromFile, type LoadedModel } from './model.ts';
export { crownIbpMargins } from './crown-ibp.ts';

// Public door of src/defense: gradient inhibition as parameter edits and its DefenseSpec, the defended model attacks
// target, hardening a model, magnitude GI's calibration, and converting a dense model to a hashed one.
export { DefendedModel } from './defended-model.ts';
export { parseGiStage, defenseSpecSchema, type DefenseSpec, type GiStage } from './defense-spec.ts';
export { applyMagnitude, applyScale, applyStaticStages } from './gradient-inhibition.ts';
export { harden, type HardenOptions, type HardenedModel } from './harden.ts';
export { convertToHashed, projectToBuckets } from './hash-convert.ts';
export { calibrateMagnitude, type MagnitudeCalibration } from './magnitude-calibration.ts';

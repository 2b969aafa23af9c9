// Public door of src/verify: sound bounds of a model's outputs over a box of inputs (interval bound propagation,
// CROWN back-substitution; float32 rounding covered by outward widening) and certificates of single predictions.
export { gamma, inputBox, intervalBounds, layerBox, type Box } from './interval.ts';
export { certify, type Certificate, type CertifyOptions, type Randomness } from './margins.ts';
export { backSubstitute, rows, type Rows } from './back-substitute.ts';
export {
  BOUND_METHODS,
  boundCosts,
  layerInputBoxes,
  outputBounds,
  type BoundCosts,
  type BoundMethod,
} from './methods.ts';
export {
  certifiedRadius,
  radiusBracket,
  type RadiusBracket,
  type RadiusOptions,
} from './radius.ts';
export { NOISE_SIGMAS, randomStageCoverage } from './random-stage.ts';

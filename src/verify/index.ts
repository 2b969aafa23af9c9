// Public door of src/verify: sound bounds of a model's outputs over a box of inputs (interval bound propagation,
// float32 rounding covered by outward widening) and certificates of single predictions.
export { gamma, inputBox, intervalBounds, layerBox, type Box } from './interval.ts';
export { certify, type Certificate, type Randomness } from './margins.ts';

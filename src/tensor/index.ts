// Public door of src/tensor: the Tensor value, shape helpers and the Backend interface.
export * from './tensor.ts';
export {
  ChainFault, type AsyncChain, type Backend, type BinaryOp, type ChainLayer, type CompareOp, type CompiledChain, type Conv2dParams, type HashIndex,
  type InferenceStep, type Pool2dParams, type UnaryOp,
} from './backend.ts';
export { argmaxRow, argmaxRows } from './argmax.ts';

// Public door of src/tensor: the Tensor value, shape helpers, the Backend interface and the compiled-chain types.
export * from './tensor.ts';
export {
  type Backend,
  type BinaryOp,
  type CompareOp,
  type Conv2dParams,
  type HashIndex,
  type Pool2dParams,
  type UnaryOp,
} from './backend.ts';
export {
  ChainFault,
  LAYER_KERNEL,
  type AsyncChain,
  type ChainGradients,
  type ChainLayer,
  type CompiledChain,
  type Conv2dFields,
  type DenseFields,
  type HashParams,
  type LayerKernel,
} from './chain.ts';
export { argmaxRow, argmaxRows } from './argmax.ts';

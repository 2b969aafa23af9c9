// Public door of src/tensor: the Tensor value, shape helpers and the Backend interface.
export * from './tensor.ts';
export type { Backend } from './backend.ts';

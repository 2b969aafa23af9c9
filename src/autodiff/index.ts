// Public door of src/autodiff: the functional ops, gradients and the op table (for tests and new backends).
export * from './ops.ts';
export * as ops from './ops.ts';
export { currentTape, isTracked } from './tape.ts';
export { gradients, grad, valueAndGrad, noGrad } from './grad.ts';
export { opTable, sumTo } from './op-table.ts';
export type { OpDef, BackwardArgs } from './op-def.ts';

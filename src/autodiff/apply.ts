// Runs an op of the table on the active backend and records it on the current tape when it touches a tracked tensor.
import { getBackend } from '../backend/index.ts';
import type { Tensor } from '../tensor/index.ts';
import { opTable } from './op-table.ts';
import { currentTape } from './tape.ts';

/** Applies op `name` to `inputs`; the single entry point from the functional API into the tape. */
export function apply(name: string, inputs: Tensor[], attrs: unknown = undefined): Tensor {
  const op = opTable[name];
  if (!op) throw new Error(`autodiff: unknown op '${name}'`);
  const output = op.forward(getBackend(), inputs, attrs);
  currentTape()?.record(op, inputs, output, attrs);
  return output;
}

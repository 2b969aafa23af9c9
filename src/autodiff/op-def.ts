// The shape of one differentiable op: forward on a backend, backward composed from backend primitives.
import type { Backend, Tensor } from '../tensor/index.ts';

/** Context the backward rule receives. */
export interface BackwardArgs<A> {
  /** Backend to compute the gradient on (the active one). */
  b: Backend;
  /** dL/d(output). */
  dy: Tensor;
  inputs: Tensor[];
  output: Tensor;
  attrs: A;
}

/**
 * `backward` returns dL/d(input) per input (null where an input takes no gradient). Rules are written
 * with backend primitives only, so they run on whichever backend is active.
 */
export interface OpDef<A = any> {
  name: string;
  forward(b: Backend, inputs: Tensor[], attrs: A): Tensor;
  backward(args: BackwardArgs<A>): (Tensor | null)[];
}

// The recording tape of reverse-mode autodiff: which tensors are tracked, and the ops applied to them, in order.
import type { Tensor } from '../tensor/index.ts';
import type { OpDef } from './op-def.ts';

/** One recorded application of an op. */
export interface TapeEntry {
  op: OpDef;
  inputs: Tensor[];
  output: Tensor;
  attrs: unknown;
}

/** A tape records an op only when one of its inputs is tracked; its output then becomes tracked. */
export class Tape {
  readonly entries: TapeEntry[] = [];
  readonly tracked = new WeakSet<Tensor>();

  track(t: Tensor): void {
    this.tracked.add(t);
  }

  record(op: OpDef, inputs: Tensor[], output: Tensor, attrs: unknown): void {
    if (!inputs.some((t) => this.tracked.has(t))) return;
    this.entries.push({ op, inputs, output, attrs });
    this.tracked.add(output);
  }
}

// null entries are noGrad() scopes: nothing records while one is on top.
const stack: (Tape | null)[] = [];

/** The tape that records now, if any. Only the innermost scope records (no higher-order gradients). */
export function currentTape(): Tape | null {
  return stack.length ? stack[stack.length - 1] : null;
}

/** Whether the recording tape (if any) tracks `t`, i.e. whether ops on it are being recorded for gradients. */
export function isTracked(t: Tensor): boolean {
  return currentTape()?.tracked.has(t) ?? false;
}

/** Runs fn with `tape` (or no tape, for null) on top of the stack. */
export function withTape<T>(tape: Tape | null, fn: () => T): T {
  stack.push(tape);
  try {
    return fn();
  } finally {
    stack.pop();
  }
}

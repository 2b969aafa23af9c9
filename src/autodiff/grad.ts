// Reverse-mode differentiation: gradients of a scalar function with respect to chosen tensors, plus noGrad.
import { getBackend } from '../backend/index.ts';
import { sameShape, shapeStr, Tensor, full, zeros } from '../tensor/index.ts';
import { Tape, withTape } from './tape.ts';

/**
 * Evaluates `f()` and returns its value and dL/dt for every t in `wrt` (zeros for tensors it does not
 * depend on). f must return a one-element tensor. Nothing is accumulated on the tensors themselves.
 */
export function gradients(
  f: () => Tensor,
  wrt: readonly Tensor[],
): { value: Tensor; grads: Tensor[] } {
  const tape = new Tape();
  for (const t of wrt) tape.track(t);
  const value = withTape(tape, f);
  if (value.size !== 1)
    throw new Error(`grad: function must return a scalar, got shape ${shapeStr(value.shape)}`);
  const grads = new Map<Tensor, Tensor>();
  grads.set(value, full(value.shape, 1, value.dtype));
  const b = getBackend();
  // Backward rules run with recording off: they use backend primitives, never the tape.
  withTape(null, () => {
    for (let i = tape.entries.length - 1; i >= 0; i--) {
      const { op, inputs, output, attrs } = tape.entries[i];
      const dy = grads.get(output);
      if (!dy) continue;
      const dxs = op.backward({ b, dy, inputs, output, attrs });
      inputs.forEach((x, k) => {
        const dx = dxs[k];
        if (!dx || !tape.tracked.has(x)) return;
        if (!sameShape(dx.shape, x.shape)) {
          throw new Error(
            `autodiff: '${op.name}' backward gave ${shapeStr(dx.shape)} for input ${k} of shape ${shapeStr(x.shape)}`,
          );
        }
        const prev = grads.get(x);
        grads.set(x, prev ? b.binary('add', prev, dx) : dx);
      });
    }
  });
  return { value, grads: wrt.map((t) => grads.get(t) ?? zeros(t.shape, t.dtype)) };
}

/** JAX-style: valueAndGrad(f)(...xs) → {value, grads} with one gradient per argument. */
export function valueAndGrad(
  f: (...xs: Tensor[]) => Tensor,
): (...xs: Tensor[]) => { value: Tensor; grads: Tensor[] } {
  return (...xs) => gradients(() => f(...xs), xs);
}

/** JAX-style: grad(f)(...xs) → one gradient per argument. */
export function grad(f: (...xs: Tensor[]) => Tensor): (...xs: Tensor[]) => Tensor[] {
  return (...xs) => gradients(() => f(...xs), xs).grads;
}

/** Runs fn with no tape recording (inference, optimizer updates, attack bookkeeping). */
export function noGrad<T>(fn: () => T): T {
  return withTape(null, fn);
}

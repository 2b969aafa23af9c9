// Backend registry: which Backend the autodiff ops dispatch to. The reference CPU kernels are the default
// until a faster backend is installed with setBackend().
import type { Backend } from '../tensor/backend.ts';
import { referenceBackend } from './cpu/index.ts';

let active: Backend = referenceBackend;

/** The backend ops run on now. */
export function getBackend(): Backend {
  return active;
}

/** Makes `backend` the active backend for every following op. */
export function setBackend(backend: Backend): void {
  active = backend;
}

/** Runs `fn` with `backend` active, restoring the previous one afterwards (even on throw). */
export function withBackend<T>(backend: Backend, fn: () => T): T {
  const prev = active;
  active = backend;
  try {
    return fn();
  } finally {
    active = prev;
  }
}

export { referenceBackend };

// Backend registry: which Backend the autodiff ops dispatch to. The fast CPU backend (WebAssembly SIMD) is
// the default wherever the runtime can run it, else the reference kernels; setBackend() changes it.
import type { Backend } from '../tensor/backend.ts';
import { referenceBackend } from './cpu/index.ts';
import { createWasmBackend } from './wasm/index.ts';

/** The backend a fresh process starts on. */
export const defaultBackend: Backend = createWasmBackend() ?? referenceBackend;

let active: Backend = defaultBackend;

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

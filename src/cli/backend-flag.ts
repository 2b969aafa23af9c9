// The --backend flag of the CLI: which CPU kernels run (the reference TypeScript ones, or WebAssembly SIMD).
import { referenceBackend, setBackend } from '../backend/index.ts';
import { createWasmBackend } from '../backend/wasm/index.ts';
import type { Backend } from '../tensor/backend.ts';
import { UsageError } from './args.ts';

export const BACKEND_NAMES = ['reference', 'wasm'] as const;

/** Activates the named backend and returns it; 'wasm' fails clearly where WebAssembly SIMD is missing. */
export function useBackend(name: (typeof BACKEND_NAMES)[number]): Backend {
  const backend = name === 'wasm' ? createWasmBackend() : referenceBackend;
  if (!backend) throw new UsageError('--backend wasm: this runtime cannot run WebAssembly SIMD; use --backend reference');
  setBackend(backend);
  return backend;
}

// The --backend flag of the CLI: which CPU kernels run (the reference TypeScript ones, or WebAssembly SIMD), and
// for training also webgpu/auto (whole-network forward and backward on the GPU chain, primitives on wasm).
import {
  referenceBackend,
  selectBackend,
  setBackend,
  createWasmBackend,
} from '../backend/index.ts';
import type { Backend } from '../tensor/index.ts';
import { UsageError } from './args.ts';

export const BACKEND_NAMES = ['reference', 'wasm'] as const;

/** Activates the named backend and returns it; 'wasm' fails clearly where WebAssembly SIMD is missing. */
export function useBackend(name: (typeof BACKEND_NAMES)[number]): Backend {
  const backend = name === 'wasm' ? createWasmBackend() : referenceBackend;
  if (!backend)
    throw new UsageError(
      '--backend wasm: this runtime cannot run WebAssembly SIMD; use --backend reference',
    );
  setBackend(backend);
  return backend;
}

/** --backend values of `train`: the CPU ones plus the GPU chain (forced, or only on a hardware adapter). */
export const TRAIN_BACKEND_NAMES = [...BACKEND_NAMES, 'webgpu', 'auto'] as const;

/**
 * useBackend for train: 'webgpu' runs each step's network on the GPU (even a software adapter) and fails
 * clearly without an adapter; 'auto' takes a hardware GPU, else the wasm backend. Returns the backend and a
 * one-line description for the log.
 */
export async function useTrainBackend(
  name: (typeof TRAIN_BACKEND_NAMES)[number],
): Promise<{ backend: Backend; description: string }> {
  if (name === 'reference' || name === 'wasm') {
    const backend = useBackend(name);
    return { backend, description: `cpu kernels (${backend.name})` };
  }
  const cpu = useBackend('wasm');
  let selected;
  try {
    selected = await selectBackend(name, cpu);
  } catch (e) {
    throw new UsageError(`--backend ${name}: ${(e as Error).message}`);
  }
  setBackend(selected.backend);
  return { backend: selected.backend, description: selected.description };
}

// Backend registry: which Backend the autodiff ops dispatch to. The fast CPU backend (WebAssembly SIMD) is
// the default wherever the runtime can run it, else the reference kernels; setBackend() changes it, and
// selectBackend() picks cpu or webgpu per HASHGUARD_BACKEND (the WebGPU code loads only when asked for).
import type { Backend } from '../tensor/index.ts';
// Type-only: erased at run time, so loading this registry never loads the WebGPU code.
import type { BackendSelection } from './webgpu/backend.ts';
import type { BackendChoice } from './webgpu/device.ts';
import { referenceBackend } from './cpu/index.ts';
import { createWasmBackend, useKernelsModule as installKernels } from './wasm/index.ts';

export { createWasmBackend };

/**
 * The backend a fresh process starts on. `let`: useKernelsModule may upgrade it from the reference kernels to
 * WebAssembly once a runtime that cannot compile the embedded bytes hands the compiled kernels over.
 */
export let defaultBackend: Backend = createWasmBackend() ?? referenceBackend;

let active: Backend = defaultBackend;

/**
 * Runs the WebAssembly kernels from `module`, compiled by the platform, instead of compiling the embedded bytes:
 * for runtimes that forbid compiling WebAssembly at run time (Cloudflare Workers import a `.wasm` file as a
 * WebAssembly.Module; `bun run build:worker` writes it). Call it before any op runs. The registry picked its
 * default when it loaded, possibly before the module was handed over (a bundle without the embedded bytes
 * then found no kernels), so the default, and the active backend while it is the default, move to WebAssembly.
 */
export function useKernelsModule(module: WebAssembly.Module): void {
  installKernels(module);
  if (defaultBackend !== referenceBackend) return;
  const wasm = createWasmBackend();
  if (!wasm) return;
  if (active === defaultBackend) active = wasm;
  defaultBackend = wasm;
}

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

/**
 * withBackend for async work: the backend stays active until the promise settles (withBackend would restore
 * the previous one at the first await). Not for concurrent use: the active backend is one global.
 */
export async function withBackendAsync<T>(backend: Backend, fn: () => Promise<T>): Promise<T> {
  const prev = active;
  active = backend;
  try {
    return await fn();
  } finally {
    active = prev;
  }
}

/**
 * Chooses the backend by `choice`, default env HASHGUARD_BACKEND, then 'auto': 'cpu' → the default CPU backend;
 * 'auto' → webgpu only on a hardware adapter (CPU on llvmpipe/lavapipe or without one); 'webgpu' → webgpu even on
 * a software adapter, rejecting with the reasons when there is no adapter. Does not activate it: pass
 * `.backend` to setBackend. The WebGPU module is imported only here, so core code stays free of it.
 */
export async function selectBackend(
  choice?: BackendChoice,
  cpu: Backend = defaultBackend,
): Promise<BackendSelection> {
  if (choice === 'cpu')
    return {
      backend: cpu,
      kind: 'cpu',
      adapter: null,
      software: false,
      description: `cpu kernels (${cpu.name})`,
    };
  const { openWebGpuBackend } = await import('./webgpu/backend.ts');
  return openWebGpuBackend(cpu, choice);
}

/** One line on the backend ops run on now (the adapter for webgpu), for logs and server metadata. */
export function describeBackend(backend: Backend = active): string {
  return backend.describe?.() ?? `cpu kernels (${backend.name})`;
}

export { referenceBackend };
export type { BackendChoice, BackendSelection };

// The backends every kernel test body runs against (tfjs ALL_ENVS style), and the parity tolerance.
import { referenceBackend } from '../../src/backend/cpu/index.ts';
import { createWasmBackend } from '../../src/backend/wasm/index.ts';
import type { Backend } from '../../src/tensor/index.ts';

const wasm = createWasmBackend();
if (!wasm)
  console.warn('WebAssembly SIMD unavailable in this runtime: the wasm backend is not tested here');

export const backends: Backend[] = [referenceBackend, ...(wasm ? [wasm] : [])];

/** The backends other than the reference, compared against it by test/backend/wasm/primitives.test.ts and the parity table. */
export const fastBackends: Backend[] = backends.filter((b) => b !== referenceBackend);

/** Relative tolerance of a float kernel against the reference, norm-wise: ‖got − want‖∞ ≤ tol · max(1, ‖want‖∞). */
export const RELATIVE_TOLERANCE = 1e-5;

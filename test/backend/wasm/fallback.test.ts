// Where WebAssembly SIMD is missing (old engines, some edge sandboxes) the fast backend declines and the
// pure-TypeScript reference kernels serve instead.
import { expect, test } from 'bun:test';
import { createWasmBackend } from '../../../src/backend/wasm/index.ts';

test('createWasmBackend() is null when the runtime rejects the SIMD module, and a backend otherwise', () => {
  expect(createWasmBackend()?.name).toBe('cpu-wasm-simd');
  const validate = WebAssembly.validate;
  try {
    (WebAssembly as { validate: typeof WebAssembly.validate }).validate = () => false;
    expect(createWasmBackend()).toBeNull();
  } finally {
    (WebAssembly as { validate: typeof WebAssembly.validate }).validate = validate;
  }
  expect(createWasmBackend()?.name).toBe('cpu-wasm-simd');
});

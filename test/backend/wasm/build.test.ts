// The committed WebAssembly module is exactly what scripts/build-wasm.ts builds from kernels/*.wat today.
import { expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { buildWasmModuleText, OUT_FILE } from '../../../scripts/build-wasm.ts';

test('src/backend/wasm/kernels-wasm.ts is up to date with kernels/*.wat (run: bun scripts/build-wasm.ts)', async () => {
  expect(readFileSync(OUT_FILE, 'utf8')).toBe(await buildWasmModuleText());
});

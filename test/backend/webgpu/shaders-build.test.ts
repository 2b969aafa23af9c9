// The embedded shader texts are exactly what scripts/build-shaders.ts builds from shaders/ today.
import { expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { buildShaderModuleText, OUT_FILE } from '../../../scripts/build-shaders.ts';

test('src/backend/webgpu/shaders-wgsl.ts is up to date with shaders/ (run: bun scripts/build-shaders.ts)', () => {
  expect(readFileSync(OUT_FILE, 'utf8')).toBe(buildShaderModuleText());
});

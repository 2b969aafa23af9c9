// Every WGSL file validates with Dawn's null backend (Tint), and the validator rejects a uniformity error; kernel
// specs (src/backend/webgpu/kernel-specs.ts) match the files they describe.
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kernelSpecs } from '../../../src/backend/webgpu/kernel-specs.ts';
import {
  kernelIds,
  libIds,
  loadKernelSource,
  loadLibSource,
  readShader,
} from '../../../src/backend/webgpu/shader-loader.ts';
import {
  assembleSource,
  locateLine,
  parseRequires,
} from '../../../src/backend/webgpu/shader-source.ts';
import { canValidateWgsl, validateWgsl } from '../../../src/backend/webgpu/wgsl-validate.ts';

// The webgpu package is an optional dependency, installed in CI: missing it fails here instead of skipping.
const available = await canValidateWgsl();

describe('WGSL validation (Dawn null backend)', () => {
  test('Dawn is available to validate', () => {
    if (!available)
      throw new Error(
        'the optional dependency webgpu (Dawn) is not installed or does not load: run npm install',
      );
  });

  test('there are kernels and libs to validate', () => {
    expect(kernelIds()).toEqual(
      expect.arrayContaining([
        'hash-table',
        'rng-fill',
        'relu',
        'bias-add',
        'dense',
        'hashed-dense',
        'conv2d',
        'hashed-conv2d',
        'max-pool2d',
        'softmax',
        'log-softmax',
        'relu-grad-input',
        'max-pool2d-grad-input',
        'dense-grad-input',
        'dense-grad-weight',
        'hashed-dense-grad-input',
        'hashed-dense-grad-weight',
        'conv2d-grad-input',
        'conv2d-grad-weight',
        'hashed-conv2d-grad-input',
        'hashed-conv2d-grad-weight',
        'gi-random-scale',
        'gi-random-noise',
      ]),
    );
    expect(libIds()).toEqual(expect.arrayContaining(['hash', 'rng', 'lerp']));
  });

  for (const id of kernelIds())
    test(`kernel ${id}.wgsl validates with its libs`, async () => {
      const { code, parts } = loadKernelSource(id);
      const r = await validateWgsl(code, { parts, constants: { WG: 64 } });
      expect(r.messages.filter((m) => m.startsWith('error'))).toEqual([]);
      expect(r.ok).toBe(true);
    }, 30_000); // the first one also starts Dawn, slow on a loaded machine

  for (const stem of libIds())
    test(`lib ${stem}.wgsl compiles alone`, async () => {
      const { code, parts } = loadLibSource(stem);
      const r = await validateWgsl(code, { parts, pipeline: false });
      expect(r.messages.filter((m) => m.startsWith('error'))).toEqual([]);
      expect(r.ok).toBe(true);
    }, 30_000);

  test('a barrier in non-uniform control flow is rejected, naming uniformity', async () => {
    const code = readFileSync(
      join(import.meta.dir, '../../fixtures/wgsl/uniformity-error.wgsl'),
      'utf8',
    );
    const r = await validateWgsl(code);
    expect(r.ok).toBe(false);
    expect(r.messages.join('\n')).toMatch(/uniform control flow/);
  });

  test('pipeline-level errors are caught (workgroup size 0 through the override)', async () => {
    const { code } = loadKernelSource('relu');
    const r = await validateWgsl(code, { constants: { WG: 0 } });
    expect(r.ok).toBe(false);
    expect(r.messages.join('\n')).toMatch(/workgroup_size/);
  });

  test('errors point at the original file and line', async () => {
    const { code, parts } = assembleSource(
      'broken.wgsl',
      '// requires: hash\nfn f() -> u32 { return nope; }\n',
      (s) => readShader(`lib/${s}.wgsl`),
    );
    const r = await validateWgsl(code, { parts, pipeline: false });
    expect(r.ok).toBe(false);
    expect(r.messages.join('\n')).toContain('broken.wgsl:2:');
  });
});

describe('shader sources', () => {
  test('requires: first line only, transitive, each lib once, dependencies first', () => {
    expect(parseRequires('// requires: hash, rng\nfn x() {}')).toEqual(['hash', 'rng']);
    expect(parseRequires('fn x() {}\n// requires: hash')).toEqual([]);
    const libs: Record<string, string> = {
      a: '// requires: b\nA',
      b: 'B',
      c: '// requires: a, b\nC',
    };
    const { code, parts } = assembleSource('k.wgsl', '// requires: c, b\nK', (s) => libs[s]);
    expect(parts.map((p) => p.name)).toEqual(['lib/b.wgsl', 'lib/a.wgsl', 'lib/c.wgsl', 'k.wgsl']);
    expect(code).toBe('B\n// requires: b\nA\n// requires: a, b\nC\n// requires: c, b\nK\n');
    expect(locateLine(parts, 4)).toBe('lib/c.wgsl:1');
    expect(() =>
      assembleSource('k', '// requires: a', (s) =>
        s === 'a' ? '// requires: b' : '// requires: a',
      ),
    ).toThrow(/cycle/);
  });

  test('every kernel file has a spec whose params are its Params struct, and every spec has a file', () => {
    expect(Object.keys(kernelSpecs).sort()).toEqual(kernelIds());
    for (const id of kernelIds()) {
      const text = readShader(`${id}.wgsl`);
      const struct = /struct Params\s*\{([^}]*)\}/.exec(text)?.[1] ?? '';
      const fields = [...struct.matchAll(/(\w+)\s*:\s*(u32|f32)/g)].map((m) => ({
        name: m[1],
        type: m[2],
      }));
      expect({ id, fields }).toEqual({ id, fields: [...kernelSpecs[id].params] });
      expect(text).toMatch(/override WG: u32/);
    }
  });
});

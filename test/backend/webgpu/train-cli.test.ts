// `bun run train -- --backend webgpu`: the CLI trains through the GPU chain (here the software adapter) and
// ends within float tolerance of the same run on the wasm backend; the log names the adapter.
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelDir } from '../../../src/io/model-dir.ts';
import { adapterAvailableTest, parityGpu, relativeError } from '../../helpers/webgpu-parity.ts';

const setup = await parityGpu('train --backend webgpu');
setup.gpu?.device.destroy();
const dir = mkdtempSync(join(tmpdir(), 'hg-train-webgpu-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const main = join(import.meta.dir, '../../../src/cli/main.ts');
const common = [
  '--arch',
  'lenet5',
  '--dataset',
  'synthetic',
  '--epochs',
  '1',
  '--seed',
  '3',
  '--batch-size',
  '50',
  '--threads',
  '1',
  '--optimizer',
  'sgd',
  '--lr',
  '0.01',
];

function train(backend: string, name: string) {
  const p = Bun.spawnSync(
    [
      process.execPath,
      main,
      'train',
      ...common,
      '--backend',
      backend,
      '--out',
      join(dir, name),
      '--checkpoint',
      join(dir, `${name}.ckpt`),
    ],
    {
      stdout: 'pipe',
      stderr: 'pipe',
      env: { ...process.env, EGL_PLATFORM: 'surfaceless' },
    },
  );
  return { code: p.exitCode, err: p.stderr.toString() };
}

describe('train --backend webgpu', () => {
  adapterAvailableTest(setup);
  test.skipIf(!setup.gpu)(
    'trains on the GPU chain and matches the wasm run',
    async () => {
      const gpu = train('webgpu', 'gpu');
      expect(gpu.err).toContain('backend: webgpu via');
      expect(gpu.code).toBe(0);
      expect(train('wasm', 'cpu').code).toBe(0);
      const a = await loadModelDir(join(dir, 'gpu')),
        b = await loadModelDir(join(dir, 'cpu'));
      expect(a.manifest.provenance.backend).toBe('webgpu');
      for (const [name, t] of b.tensors)
        expect(relativeError(a.tensors.get(name)!.data, t.data)).toBeLessThan(1e-4);
    },
    120_000,
  );

  test.skipIf(!setup.gpu)(
    '--threads 2 with --backend webgpu is refused by name',
    () => {
      const r = Bun.spawnSync(
        [
          process.execPath,
          main,
          'train',
          ...common.slice(0, -6),
          '--threads',
          '2',
          '--backend',
          'webgpu',
          '--out',
          join(dir, 'x'),
        ],
        {
          stdout: 'pipe',
          stderr: 'pipe',
          env: { ...process.env, EGL_PLATFORM: 'surfaceless' },
        },
      );
      expect(r.exitCode).toBe(2);
      expect(r.stderr.toString()).toContain('--threads 2: worker threads run the wasm backend');
    },
    60_000,
  );
});

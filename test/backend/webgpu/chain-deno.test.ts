// The GPU chain under Deno, whose navigator.gpu (wgpu) is the first acquisition path (docs/design.md §7): the
// script (chain-deno-script.ts) compares a hashed LeNet-5 forward and backward with the CPU backend. Without
// an adapter it skips with one line (fails under CI=true), like the Bun parity suites.
import { expect, test } from 'bun:test';
import { join } from 'node:path';
import { SERVICES_REQUIRED, SKIP_MARKER } from '../../helpers/services.ts';
import { WEBGPU_ENABLE } from '../../helpers/webgpu-parity.ts';

const root = join(import.meta.dir, '../../..');

test('Deno navigator.gpu: logits, dx and parameter gradients of a hashed LeNet-5 within 1e-4 of the CPU', () => {
  const r = Bun.spawnSync(
    [
      join(root, 'node_modules/.bin/deno'),
      'run',
      '--quiet',
      '--allow-read',
      '--allow-env',
      join(import.meta.dir, 'chain-deno-script.ts'),
    ],
    {
      cwd: root,
      stdout: 'pipe',
      stderr: 'pipe',
      env: { ...process.env, NO_COLOR: '1', HASHGUARD_BACKEND: 'webgpu' },
    },
  );
  const line = r.stdout.toString().trim().split('\n').at(-1) ?? '';
  if (r.exitCode !== 0 || !line.startsWith('{'))
    throw new Error(`deno failed (${r.exitCode}):\n${r.stderr.toString()}\n${line}`);
  const out = JSON.parse(line) as { ok: boolean; backend?: string; worst?: number; error?: string };
  if (!out.ok && /no usable WebGPU adapter/.test(out.error ?? '') && !SERVICES_REQUIRED) {
    console.warn(`${SKIP_MARKER} WebGPU (Deno) tests skipped: ${WEBGPU_ENABLE} (${out.error})`);
    return;
  }
  expect(out).toMatchObject({ ok: true });
  console.log(`deno: ${out.backend}; worst relative error ${out.worst!.toExponential(2)}`);
  expect(out.worst!).toBeLessThan(1e-4);
}, 60_000);

// The examples/ scripts run as a user would run them, from the repo root, and print what they promise.
import { expect, test } from 'bun:test';
import { join } from 'node:path';

test('examples/readme.ts runs and the FGSM step changes some predictions', () => {
  const root = join(import.meta.dir, '..');
  const p = Bun.spawnSync([process.execPath, 'examples/readme.ts'], {
    cwd: root,
    stdout: 'pipe',
    stderr: 'pipe',
  });
  expect(p.stderr.toString()).toBe('');
  expect(p.exitCode).toBe(0);
  const lines = Object.fromEntries(
    p.stdout
      .toString()
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, 5).trim(), JSON.parse(l.slice(6))]),
  );
  expect(lines.clean).toEqual(lines.label);
  expect(lines.fgsm).not.toEqual(lines.label);
}, 60_000);

test('examples/embed-bun.ts: harden, attack and serve in-process (the README Bun example)', () => {
  const root = join(import.meta.dir, '..');
  const p = Bun.spawnSync([process.execPath, 'examples/embed-bun.ts'], {
    cwd: root,
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const out = p.stdout.toString();
  expect(p.exitCode).toBe(0);
  const rate = (loss: string) => Number(new RegExp(`PGD-${loss} success ([0-9.]+)%`).exec(out)![1]);
  expect(rate('cw')).toBeGreaterThan(rate('ce')); // the masked cross-entropy gradient vs the margin loss
  expect(out).toContain('infer 200');
}, 120_000);

test('examples/embed-deno.ts: the same app under Deno (the README Deno example)', () => {
  const root = join(import.meta.dir, '..');
  const deno = join(root, 'node_modules/.bin/deno');
  const p = Bun.spawnSync(
    [
      deno,
      'run',
      '--quiet',
      '--allow-read',
      '--allow-env',
      '--allow-net',
      'examples/embed-deno.ts',
    ],
    { cwd: root, stdout: 'pipe', stderr: 'pipe' },
  );
  expect(p.exitCode).toBe(0);
  expect(p.stdout.toString()).toContain('ready 200 backend cpu-wasm-simd');
}, 120_000);

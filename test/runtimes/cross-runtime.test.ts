// The core and the fast backend run unchanged outside Bun: the same parity script under Deno (with the
// worker pool) and, bundled by `bun build --target=node`, under Node (kernels only: Node ≤ 20 has no
// global Worker). Deno comes from the `deno` dev dependency.
import { describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dir, '../..');
const script = join(import.meta.dir, 'parity-script.ts');
const denoBin = join(root, 'node_modules/.bin/deno');

function runJson(cmd: string[]): {
  ok: boolean;
  worstRelativeDiff: number;
  poolMaxDiff: number | null;
  error?: string;
} {
  const r = Bun.spawnSync(cmd, {
    cwd: root,
    stdout: 'pipe',
    stderr: 'pipe',
    env: { ...process.env, NO_COLOR: '1' },
  });
  const out = r.stdout.toString().trim().split('\n').at(-1) ?? '';
  if (r.exitCode !== 0 || !out.startsWith('{'))
    throw new Error(`${cmd.join(' ')} failed (${r.exitCode}):\n${r.stderr.toString()}\n${out}`);
  return JSON.parse(out);
}

describe('other runtimes', () => {
  test('Deno: wasm backend matches the reference; the worker pool runs', () => {
    const r = runJson([denoBin, 'run', '--quiet', '--allow-read', '--allow-env', script]);
    expect(r.ok).toBe(true);
    expect(r.worstRelativeDiff).toBeLessThan(1e-5);
    expect(r.poolMaxDiff).not.toBeNull();
    expect(r.poolMaxDiff!).toBeLessThan(1e-5);
  }, 60_000);

  test('Node: the bundled wasm backend matches the reference', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hashguard-node-'));
    try {
      const build = Bun.spawnSync(
        [process.execPath, 'build', script, '--target=node', '--outfile', join(dir, 'parity.mjs')],
        { cwd: root, stderr: 'pipe' },
      );
      expect(build.exitCode).toBe(0);
      const r = runJson(['node', join(dir, 'parity.mjs'), '--no-pool']);
      expect(r.ok).toBe(true);
      expect(r.worstRelativeDiff).toBeLessThan(1e-5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

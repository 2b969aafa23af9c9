// The examples/ scripts run as a user would run them, from the repo root, and print what they promise.
import { expect, test } from 'bun:test';
import { join } from 'node:path';

test('examples/readme.ts runs and the FGSM step changes some predictions', () => {
  const root = join(import.meta.dir, '..');
  const p = Bun.spawnSync([process.execPath, 'examples/readme.ts'], { cwd: root, stdout: 'pipe', stderr: 'pipe' });
  expect(p.stderr.toString()).toBe('');
  expect(p.exitCode).toBe(0);
  const lines = Object.fromEntries(p.stdout.toString().trim().split('\n').map((l) => [l.slice(0, 5).trim(), JSON.parse(l.slice(6))]));
  expect(lines.clean).toEqual(lines.label);
  expect(lines.fgsm).not.toEqual(lines.label);
}, 60_000);

// newRunDir: the default output folder of a command without --out is always a new one, even for two runs
// started in the same second.
import { expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newRunDir } from '../../src/cli/run-dir.ts';

test('named by prefix and UTC start time; a second run in the same second gets -2, a third -3', () => {
  const root = join(mkdtempSync(join(tmpdir(), 'hg-runs-')), 'runs');
  const now = new Date(Date.UTC(2026, 11, 5, 8, 9, 7, 654));
  const a = newRunDir('audit-mnist-lenet5-h8', now, root);
  const b = newRunDir('audit-mnist-lenet5-h8', now, root);
  const c = newRunDir('audit-mnist-lenet5-h8', now, root);
  expect([a, b, c]).toEqual(
    ['', '-2', '-3'].map((n) => join(root, `audit-mnist-lenet5-h8-20261205T080907Z${n}`)),
  );
  for (const d of [a, b, c]) expect(existsSync(d)).toBe(true);
  expect(readdirSync(root)).toHaveLength(3);
  // Characters a file name should not hold (a server's model name) are replaced.
  expect(newRunDir('audit-remote-a/b c', now, root)).toBe(
    join(root, 'audit-remote-a_b_c-20261205T080907Z'),
  );
});

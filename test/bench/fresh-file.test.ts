// A bench never overwrites a result file: a second run on the same day gets the next free name.
import { expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshFile } from '../../bench/fresh-file.ts';

test('freshFile keeps the name while it is free, then counts on from -2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hashguard-fresh-file-'));
  try {
    const first = join(dir, '2026-12-07-memory-bun.json');
    expect(freshFile(first)).toBe(first);
    writeFileSync(first, '{}');
    expect(freshFile(first)).toBe(join(dir, '2026-12-07-memory-bun-2.json'));
    writeFileSync(join(dir, '2026-12-07-memory-bun-2.json'), '{}');
    expect(freshFile(first)).toBe(join(dir, '2026-12-07-memory-bun-3.json'));
    const bare = join(dir, 'results');
    writeFileSync(bare, '');
    expect(freshFile(bare)).toBe(join(dir, 'results-2'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

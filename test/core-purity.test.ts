// Core modules must run unchanged in Deno, browsers and edge workers (docs/design.md §2): no runtime-specific
// imports or globals in tensor, hash, backend/cpu, backend/wasm, autodiff, nn or defense.
import { expect, test } from 'bun:test';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const CORE = ['tensor', 'hash', 'backend/cpu', 'backend/wasm', 'autodiff', 'nn', 'defense'];
const FORBIDDEN = [
  /from ['"]node:/,
  /from ['"]bun/,
  /\bBun\./,
  /\bDeno\./,
  /\bprocess\./,
  /\brequire\(/,
];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('core modules use no runtime-specific APIs', () => {
  const root = join(import.meta.dir, '../src');
  const offenders: string[] = [];
  for (const dir of CORE)
    for (const file of files(join(root, dir))) {
      const text = readFileSync(file, 'utf8');
      for (const re of FORBIDDEN)
        if (re.test(text)) offenders.push(`${file.slice(root.length + 1)}: ${re}`);
    }
  expect(offenders).toEqual([]);
});

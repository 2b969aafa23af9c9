// The image path the server runs (header, inflate, PNG, polarity, resize) must run in browsers and workers: no
// node: or Bun imports there, and nothing in src/ uses pngjs any more (it stays a test oracle only).
import { expect, test } from 'bun:test';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const SRC = join(import.meta.dir, '../../src');
const PURE = [
  'crc32.ts',
  'inflate.ts',
  'png-decode.ts',
  'image-header.ts',
  'image-decode.ts',
  'polarity.ts',
  'resize.ts',
  'folder-split.ts',
];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('the image decoding files import nothing runtime-specific', () => {
  const offenders: string[] = [];
  for (const f of PURE) {
    const text = readFileSync(join(SRC, 'data', f), 'utf8');
    for (const re of [
      /from ['"]node:/,
      /from ['"]bun/,
      /\bBun\./,
      /\bDeno\./,
      /\bprocess\./,
      /\brequire\(/,
      /\bBuffer\b/,
    ])
      if (re.test(text)) offenders.push(`${f}: ${re}`);
  }
  expect(offenders).toEqual([]);
});

test('no file in src/ imports pngjs', () => {
  const users = files(SRC).filter((f) =>
    /from ['"]pngjs['"]|require\(['"]pngjs['"]\)/.test(readFileSync(f, 'utf8')),
  );
  expect(users.map((f) => f.slice(SRC.length + 1))).toEqual([]);
});

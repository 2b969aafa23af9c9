// src/onnx is pure like the core (it runs in browsers and edge workers): no node:/bun imports, no runtime globals;
// file access (the model, its external data) is the CLI's, handed in as a reader.
import { expect, test } from 'bun:test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const FORBIDDEN = [
  /from ['"]node:/,
  /from ['"]bun/,
  /\bBun\./,
  /\bDeno\./,
  /\bprocess\./,
  /\brequire\(/,
];

test('src/onnx uses no runtime-specific API', () => {
  const dir = join(import.meta.dir, '../../src/onnx');
  const offenders = readdirSync(dir).flatMap((f) => {
    const text = readFileSync(join(dir, f), 'utf8');
    return FORBIDDEN.filter((re) => re.test(text)).map((re) => `${f}: ${re}`);
  });
  expect(offenders).toEqual([]);
});

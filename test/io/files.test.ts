// Atomic writes and file reads: no temp files left behind, the old file intact on failure, clear errors.
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileOrThrow, writeFileAtomic } from '../../src/io/files.ts';

const root = mkdtempSync(join(tmpdir(), 'hashguard-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `case-${n++}`);

describe('writeFileAtomic', () => {
  test('creates parent directories, writes bytes and text, replaces old content, leaves no .tmp', async () => {
    const dir = freshDir();
    const path = join(dir, 'a', 'b.bin');
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(path)]).toEqual([1, 2, 3]);
    await writeFileAtomic(path, 'héllo\n');
    expect(readFileSync(path, 'utf8')).toBe('héllo\n');
    expect(readdirSync(join(dir, 'a'))).toEqual(['b.bin']);
  });

  test('a failed rename (target is a directory) keeps the target and removes the temp file', async () => {
    const dir = freshDir();
    const target = join(dir, 'model.json');
    mkdirSync(target, { recursive: true });
    writeFileSync(join(target, 'keep.txt'), 'old');
    const err = await writeFileAtomic(target, 'new').then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toStartWith(`${target}: write failed:`);
    expect(readdirSync(dir)).toEqual(['model.json']);
    expect(readFileSync(join(target, 'keep.txt'), 'utf8')).toBe('old');
  });

  test('a failed write keeps the old file byte for byte and removes the temp file', async () => {
    const dir = freshDir();
    const path = join(dir, 'weights.safetensors');
    await writeFileAtomic(path, 'old contents');
    // An unwritable value makes the write itself throw after the temp file exists.
    const err = await writeFileAtomic(path, 42 as unknown as string).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toStartWith(`${path}: write failed:`);
    expect(readFileSync(path, 'utf8')).toBe('old contents');
    expect(readdirSync(dir)).toEqual(['weights.safetensors']);
  });
});

describe('readFileOrThrow', () => {
  test('reads bytes, and names the path and purpose of a missing file', async () => {
    const dir = freshDir();
    await writeFileAtomic(join(dir, 'x'), new Uint8Array([9]));
    expect([...(await readFileOrThrow(join(dir, 'x'), 'test'))]).toEqual([9]);
    const missing = join(dir, 'nope.json');
    await expect(readFileOrThrow(missing, 'model manifest')).rejects.toThrow(
      `${missing}: file not found (model manifest)`,
    );
    await expect(readFileOrThrow(dir, 'model manifest')).rejects.toThrow(`${dir}: is a directory`);
  });
});

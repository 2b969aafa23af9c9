// Model directories on disk: exact round trip through the file system, and corruption of either file is
// rejected with a message naming that file.
import { afterAll, describe, expect, test } from 'bun:test';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelDir, saveModelDir } from '../../src/io/index.ts';
import { ModelFileError } from '../../src/nn/model-file.ts';
import { tinyModel } from './tiny-model.ts';

const root = mkdtempSync(join(tmpdir(), 'hashguard-modeldir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `m${n++}`);

async function saved(): Promise<string> {
  const dir = freshDir();
  const { draft, tensors } = tinyModel();
  await saveModelDir(dir, draft, tensors);
  return dir;
}

async function loadError(dir: string): Promise<Error> {
  return loadModelDir(dir).then(
    () => {
      throw new Error('expected load to fail');
    },
    (e: Error) => e,
  );
}

describe('saveModelDir / loadModelDir', () => {
  test('round trip through disk is exact and leaves exactly the two files', async () => {
    const dir = freshDir();
    const { draft, tensors } = tinyModel();
    const manifest = await saveModelDir(dir, draft, tensors);
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'weights.safetensors']);
    const loaded = await loadModelDir(dir);
    expect(loaded.manifest).toEqual(manifest);
    for (const [name, t] of tensors)
      expect(loaded.tensors.get(name)!.data).toEqual(t.data as Float32Array);
    expect(Object.is(loaded.tensors.get('conv1.bias')!.data[0], -0)).toBe(true);
  });

  test('truncated weights file: sha256 mismatch naming weights.safetensors', async () => {
    const dir = await saved();
    const size = readFileSync(join(dir, 'weights.safetensors')).length;
    for (const cut of [0, 5, 100, size - 1]) {
      truncateSync(join(dir, 'weights.safetensors'), cut);
      const e = await loadError(dir);
      expect(e).toBeInstanceOf(ModelFileError);
      expect(e.message).toStartWith(`${join(dir, 'weights.safetensors')}: sha256: expected `);
    }
  });

  test('flipped data byte: sha256 mismatch', async () => {
    const dir = await saved();
    const p = join(dir, 'weights.safetensors');
    const bytes = readFileSync(p);
    bytes[bytes.length - 2] ^= 1;
    writeFileSync(p, bytes);
    expect((await loadError(dir)).message).toContain('weights.safetensors: sha256:');
  });

  test('model.json edits: missing field, wrong type, shape mismatch against weights', async () => {
    const dir = await saved();
    const p = join(dir, 'model.json');
    const original = readFileSync(p, 'utf8');
    const edit = (f: (m: any) => void) => {
      const m = JSON.parse(original);
      f(m);
      writeFileSync(p, JSON.stringify(m));
    };
    edit((m) => delete m.metrics.testCount);
    expect((await loadError(dir)).message).toBe(
      `${p}: metrics.testCount: missing required field (expected a non-negative integer)`,
    );
    edit((m) => (m.layers[4].outDim = 'three'));
    expect((await loadError(dir)).message).toStartWith(
      `${p}: layers[4].outDim: expected a positive integer`,
    );
    edit((m) => (m.layers[4].outDim = 4)); // valid schema, hash fine, but weights are [3, 8]
    expect((await loadError(dir)).message).toBe(
      `${join(dir, 'weights.safetensors')}: tensor "fc.weight" shape: expected [4, 8] from model.json layers[4] (dense), found [3, 8]`,
    );
    writeFileSync(p, original.slice(0, 40));
    expect((await loadError(dir)).message).toStartWith(`${p}: (JSON): syntax error`);
  });

  test('missing files are named', async () => {
    const dir = await saved();
    rmSync(join(dir, 'weights.safetensors'));
    expect((await loadError(dir)).message).toBe(
      `${join(dir, 'weights.safetensors')}: file not found (model weights)`,
    );
    expect((await loadError(freshDir())).message).toContain(
      'model.json: file not found (model manifest)',
    );
  });

  test('an invalid save writes nothing and leaves the previous model loadable', async () => {
    const dir = await saved();
    const before = readFileSync(join(dir, 'weights.safetensors'));
    const { draft, tensors } = tinyModel();
    tensors.set('extra', tensors.get('fc.bias')!);
    await expect(saveModelDir(dir, draft, tensors)).rejects.toThrow(
      'tensor "extra": not used by any layer',
    );
    expect(readFileSync(join(dir, 'weights.safetensors'))).toEqual(before);
    expect((await loadModelDir(dir)).tensors.size).toBe(4);
  });
});

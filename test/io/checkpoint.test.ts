// Training checkpoints: exact round trip, and corrupt or truncated files refused with a clear message.
import { describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint, saveCheckpoint } from '../../src/io/checkpoint.ts';
import { tensor } from '../../src/tensor/tensor.ts';

const dir = mkdtempSync(join(tmpdir(), 'hg-ckpt-'));
const params = new Map([
  ['fc.weight', tensor([0.1, -0.2, 3e-39, -0], [2, 2])],
  ['fc.bias', tensor([1, 2])],
]);
const opt = new Map([
  ['step', tensor([7])],
  ['fc.weight.m', tensor([1, 2, 3, 4], [2, 2])],
]);
const state = {
  epochsDone: 3,
  config: { arch: 'mlp', seed: 1 },
  history: [{ epoch: 0, loss: 1, accuracy: 0.5, seconds: 2 }],
};

describe('checkpoints', () => {
  test('round trip is exact', async () => {
    const path = join(dir, 'a.ckpt');
    await saveCheckpoint(path, params, opt, state);
    const back = await loadCheckpoint(path);
    expect(back.state).toEqual(state);
    for (const [k, t] of params)
      expect(new Uint8Array(back.params.get(k)!.data.buffer)).toEqual(
        new Uint8Array(t.data.buffer),
      );
    for (const [k, t] of opt)
      expect(Array.from(back.optState.get(k)!.data)).toEqual(Array.from(t.data));
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
  test('best parameters equal to the parameters are stored once and come back as both', async () => {
    const other = new Map(
      [...params].map(([k, t]) => [
        k,
        tensor(
          Array.from(t.data).map((v) => v + 1),
          t.shape,
        ),
      ]),
    );
    const copy = new Map([...params].map(([k, t]) => [k, tensor(Array.from(t.data), t.shape)]));
    const once = join(dir, 'once.ckpt'),
      twice = join(dir, 'twice.ckpt');
    await saveCheckpoint(once, params, opt, state, copy);
    await saveCheckpoint(twice, params, opt, state, other);
    const bytes = (k: string) => 4 * params.get(k)!.size;
    const paramBytes = bytes('fc.weight') + bytes('fc.bias');
    // The second file holds the best parameters too (plus their header entries).
    expect(readFileSync(twice).length - readFileSync(once).length).toBeGreaterThanOrEqual(
      paramBytes,
    );
    for (const [path, want] of [
      [once, params],
      [twice, other],
    ] as const) {
      const back = await loadCheckpoint(path);
      expect([...back.best.keys()]).toEqual([...want.keys()]);
      for (const [k, t] of want)
        expect(Array.from(back.best.get(k)!.data)).toEqual(Array.from(t.data));
    }
  });
  test('a flipped data byte is detected by the checksum', async () => {
    const path = join(dir, 'b.ckpt');
    await saveCheckpoint(path, params, opt, state);
    const bytes = readFileSync(path);
    bytes[bytes.length - 3] ^= 0x40;
    writeFileSync(path, bytes);
    await expect(loadCheckpoint(path)).rejects.toThrow(
      /b\.ckpt: hashguard\.data_sha256: .*corrupt/,
    );
  });
  test('a truncated file is refused, naming the file', async () => {
    const path = join(dir, 'c.ckpt');
    await saveCheckpoint(path, params, opt, state);
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, bytes.length - 5));
    await expect(loadCheckpoint(path)).rejects.toThrow(/c\.ckpt/);
  });
  test('a missing file is a clear error', async () => {
    await expect(loadCheckpoint(join(dir, 'nope.ckpt'))).rejects.toThrow(
      /nope\.ckpt: file not found/,
    );
  });
});

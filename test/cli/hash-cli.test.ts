// `train --hash` and `convert` as a user runs them, on the small synthetic dataset.
import { describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'hg-hash-cli-'));
const main = join(import.meta.dir, '../../src/cli/main.ts');
const common = [
  '--arch',
  'mlp',
  '--dataset',
  'synthetic',
  '--epochs',
  '2',
  '--seed',
  '3',
  '--batch-size',
  '50',
  '--widths',
  '64',
];

function run(args: string[]) {
  const p = Bun.spawnSync([process.execPath, main, ...args], { stdout: 'pipe', stderr: 'pipe' });
  return { code: p.exitCode, err: p.stderr.toString() };
}
const manifest = (m: string) => JSON.parse(readFileSync(join(m, 'model.json'), 'utf8'));

describe('hash CLI', () => {
  test('train --hash stores hashed layers with per-layer compression, seeds derived from --seed', () => {
    const out = join(dir, 'h');
    const r = run([
      'train',
      ...common,
      '--hash',
      '1/8,dense',
      '--out',
      out,
      '--checkpoint',
      join(dir, 'h.ckpt'),
    ]);
    expect(r.err).toContain('saved');
    const m = manifest(out);
    expect(m.layers[1]).toMatchObject({
      type: 'hashed-dense',
      inDim: 784,
      outDim: 64,
      hash: { buckets: 6272 },
    });
    expect(m.layers[3].type).toBe('dense');
    expect(m.provenance.hash).toEqual({ compression: '1/8,dense', secretSeeds: false });
    expect(m.metrics.testAccuracy).toBeGreaterThan(0.9);
    // Same seed → same hash seeds (reproducible); --secret-seed → seeds from the crypto RNG.
    const again = join(dir, 'h2');
    run([
      'train',
      ...common,
      '--hash',
      '1/8,dense',
      '--out',
      again,
      '--checkpoint',
      join(dir, 'h2.ckpt'),
    ]);
    expect(manifest(again).layers[1].hash.seed).toBe(m.layers[1].hash.seed);
    const secret = join(dir, 'h3');
    run([
      'train',
      ...common,
      '--hash',
      '1/8,dense',
      '--secret-seed',
      '--out',
      secret,
      '--checkpoint',
      join(dir, 'h3.ckpt'),
    ]);
    expect(manifest(secret).layers[1].hash.seed).not.toBe(m.layers[1].hash.seed);
    expect(manifest(secret).provenance.hash.secretSeeds).toBe(true);
  }, 90_000);

  test('convert projects a dense model, with and without fine-tuning', () => {
    const dense = join(dir, 'dense');
    // Every training row for the source and the fine-tuning below, as before the validation split existed:
    // this test checks conversion, not selection.
    run([
      'train',
      ...common,
      '--validation',
      '0',
      '--out',
      dense,
      '--checkpoint',
      join(dir, 'dense.ckpt'),
    ]);
    const plain = join(dir, 'conv');
    const r = run(['convert', '--from', dense, '--compression', '1/4', '--out', plain]);
    expect(r.err).toContain('projected onto buckets');
    expect(r.code).toBe(0);
    const m = manifest(plain);
    expect(m.layers.filter((l: { type: string }) => l.type === 'hashed-dense').length).toBe(2);
    expect(m.provenance.convertedFrom.weightsSha256).toBe(manifest(dense).weights.sha256);
    expect(m.metrics.testAccuracy).toBe(m.metrics.projectedTestAccuracy);
    const ft = join(dir, 'conv-ft');
    expect(
      run([
        'convert',
        '--from',
        dense,
        '--compression',
        '1/4',
        '--finetune-epochs',
        '1',
        '--validation',
        '0',
        '--out',
        ft,
        '--checkpoint',
        join(dir, 'ft.ckpt'),
      ]).code,
    ).toBe(0);
    expect(manifest(ft).provenance.finetune.epochs).toBe(1);
    expect(manifest(ft).metrics.testAccuracy).toBeGreaterThanOrEqual(0.9);
    // Fine-tuning with augmentation records it; augmentation without fine-tuning is a usage error.
    const aug = join(dir, 'conv-aug');
    expect(
      run([
        'convert',
        '--from',
        dense,
        '--compression',
        '1/4',
        '--finetune-epochs',
        '1',
        '--augment',
        'flip',
        '--out',
        aug,
        '--checkpoint',
        join(dir, 'aug.ckpt'),
      ]).code,
    ).toBe(0);
    expect(manifest(aug).provenance.finetune.augment).toEqual({ pad: 0, flip: true });
    const noFt = run([
      'convert',
      '--from',
      dense,
      '--compression',
      '1/4',
      '--augment',
      'flip',
      '--out',
      join(dir, 'x'),
    ]);
    expect(noFt.code).toBe(2);
    expect(noFt.err).toContain('--augment applies to fine-tuning');
  }, 120_000);

  test('bad compression specs are usage errors', () => {
    expect(run(['train', ...common, '--hash', '1/8,1/8,1/8', '--out', join(dir, 'x')]).err).toMatch(
      /--hash: compression list has 3 entries/,
    );
    expect(run(['convert', '--from', join(dir, 'nope'), '--compression', '1/8']).err).toMatch(
      /nope.*not found/,
    );
  });
});

// The train/eval CLI as a user runs it: a full run, Ctrl-C (SIGINT) then --resume reproducing the same
// weights bit for bit, and usage errors without stack traces. Uses the small synthetic dataset.
import { describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'hg-cli-'));
const bun = process.execPath;
const main = join(import.meta.dir, '../../src/cli/main.ts');
const common = [
  '--arch',
  'mlp',
  '--dataset',
  'synthetic',
  '--epochs',
  '4',
  '--seed',
  '3',
  '--batch-size',
  '50',
];

function run(args: string[]) {
  const p = Bun.spawnSync([bun, main, ...args], { stdout: 'pipe', stderr: 'pipe' });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}

const weightsSha = (model: string) =>
  JSON.parse(readFileSync(join(model, 'model.json'), 'utf8')).weights.sha256 as string;

describe('train CLI', () => {
  test('a full run writes a loadable model with provenance and test accuracy', () => {
    const out = join(dir, 'full');
    const r = run(['train', ...common, '--out', out, '--checkpoint', join(dir, 'full.ckpt')]);
    expect(r.err).toContain('saved');
    expect(r.code).toBe(0);
    const m = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    expect(m.provenance.command).toBe(
      `bun run train -- ${[...common, '--out', out, '--checkpoint', join(dir, 'full.ckpt')].join(' ')}`,
    );
    expect(m.metrics.testCount).toBe(200);
    expect(m.metrics.testAccuracy).toBeGreaterThan(0.9);
    expect(m.input).toEqual({ shape: [1, 28, 28], range: [0, 1], background: 'any' }); // the dataset's convention, recorded
    const ev = run(['eval', '--model', out]);
    expect(ev.code).toBe(0);
    expect(JSON.parse(ev.out).testAccuracy).toBe(m.metrics.testAccuracy);
  }, 60_000);

  test('SIGINT checkpoints the last step; --resume ends with the same weights as an uninterrupted run', async () => {
    const out = join(dir, 'resumed');
    const ckpt = join(dir, 'resumed.ckpt');
    const args = ['train', ...common, '--out', out, '--checkpoint', ckpt];
    const p = Bun.spawn([bun, main, ...args], { stdout: 'pipe', stderr: 'pipe' });
    const deadline = Date.now() + 30_000;
    while (!existsSync(ckpt) && Date.now() < deadline) await Bun.sleep(20);
    p.kill('SIGINT');
    const code = await p.exited;
    const err = await new Response(p.stderr).text();
    if (code === 0) {
      // The run finished before the signal landed (a very fast machine): nothing to resume, but the result must still match.
      expect(weightsSha(out)).toBe(weightsSha(join(dir, 'full')));
      return;
    }
    expect(code).toBe(130);
    expect(err).toMatch(
      /interrupted by SIGINT (in epoch \d\/4 after step \d+|after epoch \d\/4): .* holds/,
    );
    expect(existsSync(out)).toBe(false);
    const r = run([...args, '--resume']);
    expect(r.err).toMatch(/resumed from .* after epoch \d/);
    expect(r.code).toBe(0);
    expect(weightsSha(out)).toBe(weightsSha(join(dir, 'full')));
  }, 60_000);

  test('--resume with other settings is refused', () => {
    const r = run([
      'train',
      ...common.map((a) => (a === '3' ? '4' : a)),
      '--out',
      join(dir, 'x'),
      '--checkpoint',
      join(dir, 'full.ckpt'),
      '--resume',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('was written with other settings');
  });

  test('bad flags give a one-line usage error, never a stack trace', () => {
    for (const args of [
      ['train', '--arch', 'vgg', '--out', 'x'],
      ['train', '--epochs', 'abc', '--out', 'x'],
      ['train', '--bogus'],
      ['train', '--dataset', 'synthetic'],
    ]) {
      const r = run(args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^error: /);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
    const missing = run(['eval', '--model', join(dir, 'does-not-exist')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/does-not-exist.*not found/);
  }, 60_000); // five process starts: slow on a loaded machine
});

test('--backend wasm trains and records the backend in provenance', () => {
  const out = join(dir, 'wasm');
  const r = run([
    'train',
    ...common,
    '--epochs',
    '1',
    '--backend',
    'wasm',
    '--out',
    out,
    '--checkpoint',
    join(dir, 'wasm.ckpt'),
  ]);
  expect(r.code).toBe(0);
  const m = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
  expect(m.provenance.backend).toBe('cpu-wasm-simd');
  expect(run(['train', ...common, '--backend', 'gpu', '--out', out]).err).toMatch(
    /--backend: expected one of reference, wasm/,
  );
}, 60_000);

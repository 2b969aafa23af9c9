// bench/train-cost.ts (`bun run bench:train`) answers --help and -h with its usage on stdout (exit 0) before any
// work, and rejects unknown or malformed flags (exit 2) before loading MNIST; neither writes a result file.
// (entry-help.test.ts covers the entries it lists by name; this one covers the adversarial training-cost bench.)
import { expect, test } from 'bun:test';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dir, '../..');
const RESULTS = join(ROOT, 'bench/results');

function run(argv: string[]) {
  const t0 = performance.now();
  const p = Bun.spawnSync([process.execPath, ...argv], {
    stdout: 'pipe',
    stderr: 'pipe',
    cwd: ROOT,
  });
  return {
    code: p.exitCode,
    out: p.stdout.toString(),
    err: p.stderr.toString(),
    seconds: (performance.now() - t0) / 1000,
  };
}

const snapshot = () =>
  readdirSync(RESULTS)
    .map((f) => `${f} ${statSync(join(RESULTS, f)).mtimeMs}`)
    .sort();

test('--help and -h: usage on stdout, exit 0, no work done', () => {
  const before = snapshot();
  for (const argv of [
    ['bench/train-cost.ts', '--help'],
    ['bench/train-cost.ts', '-h'],
    ['bench/train-cost.ts', '--quick', '--threads', '1', '-h'],
    ['run', 'bench:train', '--', '--help'],
  ]) {
    const r = run(argv);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toStartWith('usage: bun run bench:train');
    expect(r.out.split('\n').length, r.out).toBeLessThan(12);
    expect(r.seconds).toBeLessThan(15);
  }
  expect(snapshot()).toEqual(before);
}, 60_000);

test('unknown and malformed flags: named, usage on stderr, exit 2, no work done', () => {
  const before = snapshot();
  const bogus = run(['bench/train-cost.ts', '--bogus-flag']);
  expect(bogus.code).toBe(2);
  expect(bogus.err).toStartWith(
    'error: unknown flag --bogus-flag (valid flags: --quick, --threads, --steps, --rounds, --progress, --help)',
  );
  expect(bogus.err).toContain('usage: ');
  expect(bogus.out).toBe('');
  for (const argv of [
    ['--threads', '0'],
    ['--threads', 'all'],
    ['--steps', '0'],
    ['--steps', '2.5'],
    ['--rounds', '0'],
  ]) {
    const r = run(['bench/train-cost.ts', ...argv]);
    expect(r.code, argv.join(' ')).toBe(2);
    expect(r.err).toStartWith(`error: ${argv[0]}: expected an integer`);
    expect(r.out).toBe('');
  }
  expect(snapshot()).toEqual(before);
}, 60_000);

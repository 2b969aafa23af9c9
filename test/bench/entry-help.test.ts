// Every bench entry point (bun bench/*.ts and the npm scripts bench, bench:serve, bench:cifar, bench:train, bench:detect, bench:audit-queue) and every script
// (bun scripts/*.ts) answers --help and -h with its usage on stdout, exit 0, before any work (no results or
// golden file written, well under a second or two instead of minutes), and rejects an unknown flag by name with
// the valid ones listed (exit 2). The file lists are checked against the folders, so a new entry must be listed.
import { describe, expect, test } from 'bun:test';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dir, '../..');
/** bench/*.ts run as programs. */
const BENCH_ENTRIES = [
  'audit-queue.ts',
  'cifar.ts',
  'compare-trees.ts',
  'detect.ts',
  'detect-fingerprints.ts',
  'detect-store.ts',
  'memory.ts',
  'run.ts',
  'serve.ts',
  'train-cost.ts',
  'webgpu.ts',
];
/** bench/*.ts that are modules of the entries: no top-level work, no command line. */
const BENCH_MODULES = [
  'attack-rates.ts',
  'benign-traffic.ts',
  'fresh-file.ts',
  'machine-facts.ts',
  'ratios.ts',
  'rounds.ts',
  'scaling-chart.ts',
  'scaling.ts',
  'serve-child.ts',
  'serve-load.ts',
  'timing.ts',
  'usage.ts',
  'workloads.ts',
];
/** scripts/*.ts: all are programs. */
const SCRIPTS = [
  'audit-summary.ts',
  'bench-setup.ts',
  'bench-table.ts',
  'build-binary.ts',
  'build-package.ts',
  'build-shaders.ts',
  'build-wasm.ts',
  'build-worker.ts',
  'embed-model.ts',
  'gi-table.ts',
  'headline-chart.ts',
  'loc.ts',
  'make-hash-goldens.ts',
  'make-model-goldens.ts',
  'models-table.ts',
  'render-reports.ts',
];
const ENTRIES = [...BENCH_ENTRIES.map((f) => `bench/${f}`), ...SCRIPTS.map((f) => `scripts/${f}`)];
/** What a started run would write: bench results, the goldens, the generated wasm module. */
const WATCHED = ['bench/results', 'test/golden', 'src/backend/wasm', 'src/backend/webgpu'];

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

/** Names and modification times of the files a run would write. */
function snapshot(): string[] {
  return WATCHED.flatMap((d) =>
    readdirSync(join(ROOT, d)).map((f) => `${d}/${f} ${statSync(join(ROOT, d, f)).mtimeMs}`),
  ).sort();
}

test('every bench/*.ts and scripts/*.ts is listed here as an entry point or a module', () => {
  expect(
    readdirSync(join(ROOT, 'bench'))
      .filter((f) => f.endsWith('.ts'))
      .sort(),
  ).toEqual([...BENCH_ENTRIES, ...BENCH_MODULES].sort());
  expect(
    readdirSync(join(ROOT, 'scripts'))
      .filter((f) => f.endsWith('.ts'))
      .sort(),
  ).toEqual(SCRIPTS);
});

describe('--help and -h', () => {
  for (const entry of ENTRIES) {
    test(`${entry}: usage on stdout, exit 0, no work done`, () => {
      const before = snapshot();
      for (const help of ['--help', '-h']) {
        const r = run([entry, help]);
        expect(r.code, r.err).toBe(0);
        expect(r.out).toStartWith('usage: ');
        expect(r.out.split('\n').length, r.out).toBeLessThan(12);
        // A real run takes minutes (bench) or at least loads data and models; --help only starts bun.
        expect(r.seconds).toBeLessThan(15);
      }
      expect(snapshot()).toEqual(before);
    }, 60_000);
  }

  for (const script of [
    'bench',
    'bench:serve',
    'bench:cifar',
    'bench:train',
    'bench:detect',
    'bench:memory',
    'bench:setup',
  ]) {
    test(`bun run ${script} -- --help`, () => {
      const before = snapshot();
      const r = run(['run', script, '--', '--help']);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toStartWith('usage: ');
      expect(r.seconds).toBeLessThan(15);
      expect(snapshot()).toEqual(before);
    }, 60_000);
  }

  test('bench --backend webgpu --help is help too, not a GPU run', () => {
    const r = run(['bench/run.ts', '--backend', 'webgpu', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toStartWith('usage: bun run bench');
    expect(r.out).not.toContain('webgpu: ');
  }, 60_000);
});

describe('unknown and malformed flags', () => {
  for (const entry of ENTRIES) {
    test(`${entry}: --bogus-flag is named, the valid flags listed, exit 2`, () => {
      const before = snapshot();
      const r = run([entry, '--bogus-flag']);
      expect(r.code).toBe(2);
      expect(r.err).toStartWith('error: unknown flag --bogus-flag (valid flags: ');
      expect(r.err.split('\n')[0]).toContain('--help');
      expect(r.err).toContain('usage: ');
      expect(r.out).toBe('');
      expect(snapshot()).toEqual(before);
    }, 60_000);
  }

  test('the bench flags are listed and checked', () => {
    expect(run(['bench/run.ts', '--bogus-flag']).err).toContain(
      '(valid flags: --progress, --quick, --rounds, --no-scaling, --backend, --peak-gflops, --peak-gbps, --help)',
    );
    expect(run(['bench/cifar.ts', '--bogus-flag']).err).toContain('(valid flags: --quick, --help)');
    expect(run(['bench/serve.ts', '--bogus-flag']).err).toContain('--duration-s');
    for (const argv of [
      ['bench/run.ts', '--backend', 'wasm'],
      ['bench/run.ts', '--peak-gflops', '100'],
      ['bench/run.ts', '--rounds', '0'],
      ['bench/memory.ts', '--requests', 'many'],
      ['bench/memory.ts', '--detect', 'maybe'],
      ['bench/webgpu.ts', '--backend', 'webgpu', '--peak-gbps', 'fast'],
      ['bench/serve.ts', '--clients', '0'],
    ]) {
      const r = run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toStartWith('error: --');
    }
    // Scripts that take file or model names still refuse the wrong ones as usage errors.
    expect(run(['scripts/bench-table.ts']).code).toBe(2);
    expect(run(['scripts/make-model-goldens.ts', 'not-a-model']).err).toContain(
      'not committed models: not-a-model',
    );
  }, 60_000);
});

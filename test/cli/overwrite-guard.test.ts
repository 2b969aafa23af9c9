// train, convert, harden and audit never replace an existing model or report silently: without --force they
// refuse before any work (one line naming the target and --force, exit 1, the files byte-identical), with
// --force they replace it; audit without --out writes to a new folder under runs/ in the working directory.
import { beforeAll, describe, expect, test } from 'bun:test';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainSyntheticMlp } from '../helpers/cli-args.ts';

const dir = mkdtempSync(join(tmpdir(), 'hg-overwrite-'));
const root = join(import.meta.dir, '../..');
const main = join(root, 'src/cli/main.ts');
const committedModel = join(root, 'models/mnist-lenet5-h8-gi');
const committedReport = join(root, 'docs/audit/mnist-lenet5');
const REPORT_EXTS = ['.json', '.md', '.html'];
// The smallest real audit: one configuration, one attack, two images (a second or two).
const tinyAudit = [
  'audit',
  '--model',
  join(root, 'models/mnist-lenet5-h8'),
  '--n',
  '2',
  '--n-query',
  '1',
  '--attacks',
  'fgsm',
  '--configurations',
  'dense',
];

function run(args: string[], cwd = root) {
  const p = Bun.spawnSync([process.execPath, main, ...args], {
    stdout: 'pipe',
    stderr: 'pipe',
    cwd,
  });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}
const bytes = (f: string) => readFileSync(f);
const manifest = (m: string) => JSON.parse(readFileSync(join(m, 'model.json'), 'utf8'));

/** A copy of the committed defended model (the refusals are checked against its bytes). */
function modelCopy(name: string): string {
  const target = join(dir, name);
  cpSync(committedModel, target, { recursive: true });
  return target;
}
function reportCopy(name: string): string {
  const base = join(dir, name);
  for (const e of REPORT_EXTS) cpSync(`${committedReport}${e}`, `${base}${e}`);
  return base;
}
function expectModelUntouched(target: string) {
  for (const f of ['model.json', 'weights.safetensors'])
    expect(bytes(join(target, f)).equals(bytes(join(committedModel, f)))).toBe(true);
}
/** One line, naming the target and --force; exit 1; nothing on stdout (no command got as far as its result). */
function expectRefused(r: ReturnType<typeof run>, target: string) {
  expect(r.code, r.err).toBe(1);
  const lines = r.err.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toStartWith('error: ');
  expect(lines[0]).toContain(target);
  expect(lines[0]).toContain('--force');
  expect(r.out).toBe('');
}

const dense = join(dir, 'dense');
beforeAll(() => {
  const t = run(trainSyntheticMlp(dense, join(dir, 'dense.ckpt')));
  expect(t.code, t.err).toBe(0);
}, 60_000); // a CLI training run: a second or two alone, longer on a loaded machine (the default hook limit is 5 s)

describe('train', () => {
  test('an --out holding a model is refused before any work; --resume too; --force replaces it', () => {
    const target = modelCopy('train-target');
    const ckpt = join(dir, 'train.ckpt');
    // 10,000 epochs: had it started, it would not end within the test's timeout.
    const args = [
      'train',
      '--arch',
      'mlp',
      '--dataset',
      'synthetic',
      '--epochs',
      '10000',
      '--seed',
      '3',
      '--threads',
      '1',
      '--out',
      target,
      '--checkpoint',
      ckpt,
    ];
    expectRefused(run(args), target);
    expectRefused(run([...args, '--resume']), target);
    expect(existsSync(ckpt)).toBe(false);
    expectModelUntouched(target);

    const forced = run([...args.map((a) => (a === '10000' ? '1' : a)), '--force']);
    expect(forced.code, forced.err).toBe(0);
    expect(manifest(target).provenance.dataset.name).toBe('synthetic');
    expect(manifest(target).defense).toBeNull();
  }, 60_000);

  test('a directory without model.json is not a model: train writes into it', () => {
    const target = join(dir, 'train-empty');
    mkdirSync(target);
    const r = run([
      'train',
      '--arch',
      'mlp',
      '--dataset',
      'synthetic',
      '--epochs',
      '1',
      '--seed',
      '3',
      '--widths',
      '16',
      '--threads',
      '1',
      '--out',
      target,
      '--checkpoint',
      join(dir, 'empty.ckpt'),
    ]);
    expect(r.code, r.err).toBe(0);
    expect(existsSync(join(target, 'model.json'))).toBe(true);
  }, 60_000);
});

test('convert: an --out holding a model is refused before loading anything; --force replaces it', () => {
  const target = modelCopy('convert-target');
  const args = ['convert', '--from', dense, '--compression', '1/4', '--out', target];
  const r = run(args);
  expectRefused(r, target);
  expect(r.err).not.toContain('projected onto buckets');
  expectModelUntouched(target);
  const forced = run([...args, '--force']);
  expect(forced.code, forced.err).toBe(0);
  expect(manifest(target).provenance.convertedFrom.weightsSha256).toBe(
    manifest(dense).weights.sha256,
  );
}, 60_000);

test('harden: an --out holding a model is refused before scoring; --force replaces it', () => {
  const target = modelCopy('harden-target');
  const args = ['harden', '--model', dense, '--gi', 'scale:100', '--out', target];
  expectRefused(run(args), target);
  expectModelUntouched(target);
  const forced = run([...args, '--force']);
  expect(forced.code, forced.err).toBe(0);
  expect(manifest(target).defense.stages).toEqual([{ kind: 'scale', alpha: 100 }]);
  expect(manifest(target).provenance.hardenedFrom.weightsSha256).toBe(
    manifest(dense).weights.sha256,
  );
}, 60_000);

describe('audit', () => {
  test('an --out whose report exists is refused before any attack; --force replaces it', () => {
    const out = reportCopy('audit-target');
    const r = run([...tinyAudit, '--out', out]);
    expectRefused(r, `${out}.json`);
    expect(r.err).not.toContain('clean accuracy');
    for (const e of REPORT_EXTS)
      expect(bytes(`${out}${e}`).equals(bytes(`${committedReport}${e}`))).toBe(true);

    const forced = run([...tinyAudit, '--out', out, '--force']);
    expect(forced.code, forced.err).toBe(0);
    const report = JSON.parse(readFileSync(`${out}.json`, 'utf8'));
    expect(report.n).toBe(2);
    expect(report.configurations.map((c: { name: string }) => c.name)).toEqual(['dense']);
    for (const e of REPORT_EXTS)
      expect(bytes(`${out}${e}`).equals(bytes(`${committedReport}${e}`))).toBe(false);
  }, 60_000);

  test('one existing file of the three is enough to refuse', () => {
    const out = join(dir, 'only-md');
    cpSync(`${committedReport}.md`, `${out}.md`);
    expectRefused(run([...tinyAudit, '--out', out]), `${out}.md`);
    expect(existsSync(`${out}.json`)).toBe(false);
  }, 30_000);

  test('--merge into an existing report is refused (after checking the parts, before writing); --force replaces it', () => {
    const out = reportCopy('merge-target');
    // One part: the committed mnist-mlp report, a whole report merged alone.
    const args = ['audit', '--merge', join(root, 'docs/audit/mnist-mlp.json'), '--out', out];
    expectRefused(run(args), `${out}.json`);
    for (const e of REPORT_EXTS)
      expect(bytes(`${out}${e}`).equals(bytes(`${committedReport}${e}`))).toBe(true);
    const forced = run([...args, '--force']);
    expect(forced.code, forced.err).toBe(0);
    expect(JSON.parse(readFileSync(`${out}.json`, 'utf8')).family).toBe('mnist-mlp');
  }, 30_000);

  test('without --out: a new folder under runs/ of the working directory, never an existing one', () => {
    const cwd = join(dir, 'cwd');
    mkdirSync(cwd);
    const a = run(tinyAudit, cwd);
    expect(a.code, a.err).toBe(0);
    const b = run(tinyAudit, cwd);
    expect(b.code, b.err).toBe(0);
    const runs = readdirSync(join(cwd, 'runs')).sort();
    expect(runs).toHaveLength(2);
    for (const name of runs) {
      expect(name).toMatch(/^audit-mnist-lenet5-h8-\d{8}T\d{6}Z(-\d+)?$/);
      expect(readdirSync(join(cwd, 'runs', name)).sort()).toEqual([
        'mnist-lenet5.html',
        'mnist-lenet5.json',
        'mnist-lenet5.md',
      ]);
    }
    expect(a.err).toContain(join('runs', runs[0]));
    // Nothing went to the old default, docs/audit/ of the working directory.
    expect(existsSync(join(cwd, 'docs'))).toBe(false);
  }, 60_000);
});

// Every `hashguard` command answers --help and -h with its usage on stdout (exit 0) without starting work, and
// names an unknown flag together with the valid ones (exit 2); so does the top level.
import { describe, expect, test } from 'bun:test';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'hg-help-'));
const root = join(import.meta.dir, '../..');
const main = join(root, 'src/cli/main.ts');

function run(args: string[], { cwd = root, npm = false } = {}) {
  const p = Bun.spawnSync([process.execPath, ...(npm ? ['run'] : [main]), ...args], {
    stdout: 'pipe',
    stderr: 'pipe',
    cwd,
  });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}

/** Each command with flags that would start real work (and write `dir/<name>`) were --help not honoured first. */
const commands: Record<string, string[]> = {
  train: [
    '--arch',
    'mlp',
    '--dataset',
    'synthetic',
    '--epochs',
    '1',
    '--threads',
    '1',
    '--out',
    join(dir, 'train'),
    '--checkpoint',
    join(dir, 'train.ckpt'),
  ],
  eval: ['--model', 'models/mnist-lenet5-h8-gi'],
  convert: ['--from', 'models/mnist-lenet5', '--compression', '1/8', '--out', join(dir, 'convert')],
  harden: ['--model', 'models/mnist-lenet5-h8', '--gi', 'scale:100', '--out', join(dir, 'harden')],
  audit: [
    '--model',
    'models/mnist-lenet5-h8',
    '--n',
    '2',
    '--attacks',
    'fgsm',
    '--configurations',
    'dense',
    '--out',
    join(dir, 'audit'),
  ],
  certify: [
    '--model',
    'models/mnist-mlp',
    '--eps',
    '0.01',
    '--n',
    '5',
    '--out',
    join(dir, 'certify'),
  ],
};

/** A flag each command has, to find in its list of valid flags. */
const ownFlag: Record<string, string> = {
  train: '--arch',
  eval: '--model',
  convert: '--from',
  harden: '--gi',
  audit: '--configurations',
  certify: '--eps',
};

describe('hashguard --help', () => {
  for (const [name, args] of Object.entries(commands)) {
    test(`${name}: --help and -h print its usage on stdout and do nothing else`, () => {
      for (const help of ['--help', '-h']) {
        for (const argv of [
          [name, help],
          [name, ...args, help],
        ]) {
          const r = run(argv);
          expect(r.code, r.err).toBe(0);
          expect(r.out).toStartWith(`usage: bun run ${name} -- `);
          expect(r.err).toBe('');
        }
      }
      // Nothing was written: no model, report or checkpoint.
      expect(readdirSync(dir)).toEqual([]);
    }, 30_000);

    test(`${name}: an unknown flag is an error naming it and listing the valid flags`, () => {
      const r = run([name, ...args, '--bogus-flag']);
      expect(r.code).toBe(2);
      const first = r.err.split('\n')[0];
      expect(first).toStartWith('error: unknown flag --bogus-flag (valid flags: ');
      for (const flag of ['--help', ownFlag[name]]) expect(first).toContain(flag);
      expect(r.err).toContain(`usage: bun run ${name} -- `);
      expect(r.out).toBe('');
      expect(readdirSync(dir)).toEqual([]);
    }, 30_000);
  }

  test('the npm scripts pass --help through (bun run <command> -- --help)', () => {
    for (const name of Object.keys(commands)) {
      const r = run([name, '--', '--help'], { npm: true });
      expect(r.code, r.err).toBe(0);
      expect(r.out).toStartWith(`usage: bun run ${name} -- `);
    }
  }, 30_000);

  test('top level: --help and -h list every command on stdout; no command or an unknown one is exit 2', () => {
    for (const help of ['--help', '-h']) {
      const r = run([help]);
      expect(r.code).toBe(0);
      expect(r.out).toStartWith('usage: hashguard <command>');
      for (const name of Object.keys(commands)) expect(r.out).toContain(`\n  ${name} `);
    }
    const none = run([]);
    expect(none.code).toBe(2);
    expect(none.out).toBe('');
    expect(none.err).toStartWith('usage: hashguard <command>');
    const unknown = run(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toStartWith("error: unknown command 'frobnicate'");
  }, 30_000);

  test('a flag-like word given as a value is a value, not an unknown flag; a missing value is a usage error', () => {
    const r = run(['eval', '--model=--bogus-flag']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('--bogus-flag/model.json: file not found');
    const missing = run(['eval', '--model']);
    expect(missing.code).toBe(2);
    expect(missing.err).toStartWith("error: Option '--model");
  }, 30_000);
});

// `audit --configurations` and `audit --merge` as a user runs them: bad input gets a usage error naming what is
// wrong, and a committed report cut into parts merges back into the same report.
import { describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditReport } from '../../src/audit/report-types.ts';

const dir = mkdtempSync(join(tmpdir(), 'hg-audit-cli-'));
const root = join(import.meta.dir, '../..');
const main = join(root, 'src/cli/main.ts');

function run(args: string[]) {
  const p = Bun.spawnSync([process.execPath, main, 'audit', ...args], {
    stdout: 'pipe',
    stderr: 'pipe',
    cwd: root,
  });
  return { code: p.exitCode, err: p.stderr.toString() };
}

describe('audit CLI: parts and merge', () => {
  test('an unknown --configurations key is a usage error that lists the known ones', () => {
    const r = run([
      '--model',
      'models/mnist-lenet5-h8',
      '--configurations',
      'dense,strong',
      '--out',
      join(dir, 'x'),
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      "--configurations: unknown 'strong' (known: dense, hashed, scale, magnitude, random, dense-at, hashed-at, hashed-at-random)",
    );
  });

  test('--eps sets the L∞ budget (a number or a fraction; the PGD step scales with it); bad radii and suites are named', () => {
    for (const bad of ['2', '0', '8/0', 'x']) {
      const r = run(['--model', 'models/mnist-lenet5-h8', '--eps', bad, '--out', join(dir, 'x')]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(
        `--eps: expected a number or a fraction in (0, 1], e.g. 0.1 or 8/255, got '${bad}'`,
      );
    }
    const s = run([
      '--model',
      'models/mnist-lenet5-h8',
      '--suite',
      'default,strongest',
      '--out',
      join(dir, 'x'),
    ]);
    expect(s.code).toBe(2);
    expect(s.err).toContain("--suite: unknown 'strongest'");
    const out = join(dir, 'eps');
    const r = run([
      '--model',
      'models/mnist-lenet5-h8',
      '--eps',
      '1/10',
      '--n',
      '4',
      '--n-query',
      '2',
      '--attacks',
      'fgsm',
      '--configurations',
      'dense',
      '--out',
      out,
    ]);
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(readFileSync(`${out}.json`, 'utf8')) as AuditReport;
    expect(report.budgets.linf).toBe(0.1);
    expect(report.budgets.pgdAlpha).toBeCloseTo(0.01 / 3, 15);
    expect(report.budgets.l2).toBe(2);
  }, 60_000);

  test('--cascade-chunk takes a positive whole number of images', () => {
    for (const bad of ['0', '2.5', 'x']) {
      const r = run([
        '--model',
        'models/mnist-lenet5-h8',
        '--cascade-chunk',
        bad,
        '--out',
        join(dir, 'x'),
      ]);
      expect(r.code).toBe(2);
      expect(r.err).toContain('--cascade-chunk');
    }
  });

  test('--merge refuses a missing file, a truncated file and a file that is not a report, by name', () => {
    const truncated = join(dir, 'truncated.json');
    writeFileSync(
      truncated,
      readFileSync(join(root, 'docs/audit/mnist-mlp.json'), 'utf8').slice(0, 500),
    );
    const other = join(dir, 'other.json');
    writeFileSync(other, JSON.stringify({ format: 1, name: 'not a report' }));
    const missing = run(['--merge', join(dir, 'nope.json'), '--out', join(dir, 'm')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain(`cannot read ${join(dir, 'nope.json')}`);
    expect(run(['--merge', truncated, '--out', join(dir, 'm')]).err).toContain(
      `${truncated} is not JSON`,
    );
    expect(run(['--merge', other, '--out', join(dir, 'm')]).err).toContain(
      `${other} is not an audit report`,
    );
  });

  test('a committed report cut into two parts merges back into the same configurations, examples and time', () => {
    const full = JSON.parse(
      readFileSync(join(root, 'docs/audit/mnist-mlp.json'), 'utf8'),
    ) as AuditReport;
    const inA = new Set(['hashed+GI random', 'dense']);
    const part = (keep: (name: string) => boolean, seconds: number): AuditReport => ({
      ...full,
      configurations: full.configurations.filter((c) => keep(c.name)),
      examples: full.examples.filter((e) => keep(e.config)),
      seconds,
    });
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    // Written in the "wrong" order on purpose: the merge restores the canonical configuration order.
    writeFileSync(a, JSON.stringify(part((n) => inA.has(n), 100)));
    writeFileSync(b, JSON.stringify(part((n) => !inA.has(n), 200)));
    const out = join(dir, 'merged');
    const r = run(['--merge', `${a},${b}`, '--out', out]);
    expect(r.code).toBe(0);
    const merged = JSON.parse(readFileSync(`${out}.json`, 'utf8')) as AuditReport;
    // Everything comes back as it was, but the black-box checks: a merge re-judges them by the per-image rule
    // from the stored bits (this committed report was judged by the earlier rate rule), in both norms.
    const rest = (cs: AuditReport['configurations']) =>
      cs.map((c) => ({
        ...c,
        checks: c.checks.filter((k) => !k.id.startsWith('black-box-not-better')),
      }));
    expect(rest(merged.configurations)).toEqual(rest(full.configurations));
    for (const c of merged.configurations) {
      expect(c.checks.filter((k) => k.id.startsWith('black-box')).map((k) => k.id)).toEqual([
        'black-box-not-better',
        'black-box-not-better-l2',
      ]);
    }
    expect(merged.examples.map((e) => e.config)).toEqual(full.examples.map((e) => e.config));
    expect(merged.seconds).toBe(300);
    expect(merged.parts!.map((p) => p.configurations)).toEqual([
      ['dense', 'hashed+GI random'],
      full.configurations.map((c) => c.name).filter((n) => !inA.has(n)),
    ]);
    expect(readFileSync(`${out}.md`, 'utf8')).toContain('Produced in 2 parts');
    // The same part twice: a configuration would be counted twice.
    expect(run(['--merge', `${a},${a}`, '--out', out]).err).toContain(
      "configuration 'dense' is in part 1 and part 2",
    );
  });
});

// `certify` from the command line: certified accuracy of a committed model over a small ball, the JSON summary
// and the report files agree, radii are positive exactly for certified images, workers give the same answer as
// one thread, the methods rank as they must (CROWN-IBP ⊇ IBP, CROWN certifying more), an unknown method and an overwritten
// report are refused by name; a defended model is certified for the random draws the report names.
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'hg-certify-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const root = join(import.meta.dir, '../..');

function run(args: string[]) {
  const p = Bun.spawnSync([process.execPath, join(root, 'src/cli/main.ts'), 'certify', ...args], {
    stdout: 'pipe',
    stderr: 'pipe',
    cwd: root,
  });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}

describe('hashguard certify', () => {
  test('mnist-mlp at ε 0.001 on 40 images: summary, report files and radii agree', () => {
    const out = join(dir, 'mlp');
    const r = run([
      '--model',
      'models/mnist-mlp',
      '--eps',
      '0.001',
      '--n',
      '40',
      '--radius',
      '--out',
      out,
    ]);
    expect(r.code, r.err).toBe(0);
    const summary = JSON.parse(r.out.trim().split('\n').at(-1)!);
    expect(summary).toMatchObject({ model: 'mnist-mlp', method: 'ibp', eps: 0.001, n: 40 });
    expect(summary.certifiedAccuracy).toBeGreaterThan(0.5); // IBP certifies most images of this tiny ball
    expect(summary.certifiedAccuracy).toBeLessThanOrEqual(summary.cleanAccuracy);
    const report = JSON.parse(readFileSync(`${out}.json`, 'utf8'));
    expect(report.images).toHaveLength(40);
    expect(report.certified).toBe(
      report.images.filter((i: { certified: boolean }) => i.certified).length,
    );
    for (const i of report.images) {
      // Certified at ε means the certified radius is at least ε (to the bisection's 0.4%), and a positive margin.
      if (i.certified) expect(i.radius).toBeGreaterThanOrEqual(0.001 * 0.99);
      if (i.certified) expect(i.marginLower).toBeGreaterThan(0);
      if (i.certified) expect(i.predicted).toBe(i.label);
      if (!i.certified && i.radius > 0) expect(i.radius).toBeLessThan(0.001 * 1.01);
    }
    expect(readFileSync(`${out}.md`, 'utf8')).toContain('| clean | certified |');
    // The report is not replaced without --force.
    const again = run(['--model', 'models/mnist-mlp', '--eps', '0.001', '--n', '2', '--out', out]);
    expect(again.code).toBe(1);
    expect(again.err).toContain('pass --force to replace');
  }, 120_000);

  test('a defended model is certified as it answers; an unknown method and a missing ε are refused by name', () => {
    const defended = run(['--model', 'models/mnist-lenet5-h8-gi', '--eps', '0.001', '--n', '3']);
    expect(defended.code, defended.err).toBe(0);
    const summary = JSON.parse(defended.out.trim().split('\n').at(-1)!);
    expect(summary.defense).toEqual([{ kind: 'random', alphaMin: 50, alphaMax: 150, noise: 0.05 }]);
    expect(summary.randomDraws).toContain('every logit scale of the random stage');
    expect(summary.randomDraws).toMatch(
      /within ±5 \(a draw outside has probability at most [0-9.e-]+/,
    );
    const unknown = run(['--model', 'models/mnist-mlp', '--eps', '0.01', '--method', 'lp']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('--method');
    const noEps = run(['--model', 'models/mnist-mlp']);
    expect(noEps.code).toBe(2);
    expect(noEps.err).toContain('--eps is required');
  }, 60_000);

  test('two workers certify exactly what one thread does; CROWN-IBP certifies every image IBP does, CROWN more', () => {
    const args = ['--model', 'models/mnist-cnn-at', '--eps', '0.02', '--n', '60'];
    const per = (method: string, threads: number, out: string) => {
      const r = run([...args, '--method', method, '--threads', String(threads), '--out', out]);
      expect(r.code, r.err).toBe(0);
      return JSON.parse(readFileSync(`${out}.json`, 'utf8')) as {
        certified: number;
        boundCosts: { type: string; backSubstitutionMs: number }[];
        images: { certified: boolean; marginLower: number }[];
      };
    };
    const ibp = per('ibp', 1, join(dir, 'ibp1')),
      ibp2 = per('ibp', 2, join(dir, 'ibp2'));
    expect(ibp2.images).toEqual(ibp.images);
    const crownIbp = per('crown-ibp', 2, join(dir, 'crown-ibp')),
      crown = per('crown', 2, join(dir, 'crown'));
    ibp.images.forEach((im, i) => {
      expect(crownIbp.images[i].marginLower).toBeGreaterThanOrEqual(im.marginLower);
      if (im.certified) expect(crownIbp.images[i].certified).toBe(true);
    });
    // CROWN's tighter boxes give tighter relaxations (its adaptive slopes make that likely, not guaranteed per image).
    expect(crown.certified).toBeGreaterThanOrEqual(crownIbp.certified);
    expect(crown.certified).toBeGreaterThan(ibp.certified); // a PGD-trained model: CROWN sees much more
    // Back-substitution's cost is reported where it is spent: in the weighted layers.
    const conv = crownIbp.boundCosts.filter((c) => c.type === 'conv2d');
    expect(conv.every((c) => c.backSubstitutionMs > 0)).toBe(true);
    expect(ibp.boundCosts.every((c) => c.backSubstitutionMs === 0)).toBe(true);
  }, 180_000);
});

// A small audit end to end (mnist-lenet5 family, 40 images, a fast subset of the suite): every configuration
// is present with its checks and evidence, GI scale masks gradients (flagged), the adaptive attacks still
// break it, the same seed gives the same report numbers, and the Markdown/HTML renderings hold the tables.
import { beforeAll, describe, expect, test } from 'bun:test';
import { loadDataset } from '../../src/data/node.ts';
import { validationSplit } from '../../src/data/index.ts';
import { MNIST_BUDGETS } from '../../src/audit/attack-suite.ts';
import { auditHtml } from '../../src/audit/report-html.ts';
import { auditMarkdown } from '../../src/audit/report-markdown.ts';
import type { AuditReport } from '../../src/audit/report-types.ts';
import { runAudit } from '../../src/audit/run-audit.ts';
import { mergeAuditReports } from '../../src/audit/merge-reports.ts';
import { lenetFamily } from '../helpers/audit-family.ts';

let report: AuditReport;
const run = async (configurations?: string[]) => {
  const { test, train } = await loadDataset('mnist');
  return runAudit({
    configurations,
    ...(await lenetFamily()),
    test,
    validation: validationSplit(train, 5000).validation,
    n: 40,
    nQuery: 10,
    seed: 3,
    budgets: MNIST_BUDGETS,
    attacks: [
      'fgsm',
      'bim',
      'pgd-ce',
      'pgd-cw',
      'pgd-ce-rescaled',
      'eot-pgd',
      'transfer',
      'square',
    ],
    command: 'test',
  });
};

describe('audit (small)', () => {
  beforeAll(async () => {
    report = await run();
  }, 300_000);

  test('five configurations, each with clean accuracy, attacks, every masking check and the bracket check', () => {
    expect(report.configurations.map((c) => c.name)).toEqual([
      'dense',
      'hashed',
      'hashed+GI scale',
      'hashed+GI magnitude',
      'hashed+GI random',
    ]);
    for (const c of report.configurations) {
      expect(c.cleanAccuracy).toBeGreaterThan(0.9);
      expect(c.checks.map((k) => k.id).sort()).toEqual(
        [
          'black-box-not-better',
          'black-box-not-better-l2',
          'certified-never-broken',
          'iterative-beats-single-step',
          'monotone-in-eps',
          'randomness-needs-eot',
          'unbounded-reaches-100',
          'zero-gradients',
        ].sort(),
      );
      for (const k of c.checks) expect(k.evidence.length).toBeGreaterThan(10);
      expect(c.attacks.some((a) => a.id === 'eot-pgd')).toBe(c.randomized);
    }
    expect(report.indexSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  test('GI scale: cross-entropy attacks collapse, gradients are flagged, adaptive attacks still break it', () => {
    const scale = report.configurations.find((c) => c.name === 'hashed+GI scale')!;
    const hashed = report.configurations.find((c) => c.name === 'hashed')!;
    const asr = (c: typeof scale, id: string) => c.attacks.find((a) => a.id === id)!.successRate;
    expect(asr(scale, 'fgsm')).toBeLessThan(asr(hashed, 'fgsm'));
    expect(scale.checks.find((k) => k.id === 'zero-gradients')!.pass).toBe(false);
    expect(scale.zeroGradientShare).toBeGreaterThan(0.5);
    expect(asr(scale, 'pgd-cw')).toBeGreaterThan(0.9);
    expect(scale.adaptiveWorstCase.full.successRate).toBeGreaterThanOrEqual(
      asr(hashed, 'pgd-ce') - 0.05,
    );
    const random = report.configurations.find((c) => c.name === 'hashed+GI random')!;
    expect(random.checks.find((k) => k.id === 'randomness-needs-eot')!.pass).toBe(false);
    expect(hashed.checks.find((k) => k.id === 'randomness-needs-eot')!.pass).toBe(true);
  });

  test('Markdown and HTML carry both tables, the checks and the image grid', () => {
    const md = auditMarkdown(report);
    expect(md).toContain('## Paper table');
    expect(md).toContain('## Adaptive table');
    expect(md).toContain('worst case per image');
    expect(md).toContain('`zero-gradients`');
    const html = auditHtml(report);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<svg');
    expect(html).not.toContain('<script');
    expect(report.examples.length).toBeGreaterThan(0);
  });

  const nums = (r: AuditReport) =>
    r.configurations.map((c) => [
      c.name,
      c.cleanAccuracy,
      c.zeroGradientShare,
      ...c.attacks.map((a) => a.successRate),
      ...c.checks.map((k) => k.pass),
    ]);

  test('the same seed reproduces every number', async () => {
    const again = await run();
    expect(nums(again)).toEqual(nums(report));
  }, 300_000);

  test('an audit run in parts (--configurations) and merged equals the single run, number for number', async () => {
    const a = await run(['hashed+GI random', 'dense']);
    const b = await run(['hashed', 'hashed+GI scale', 'hashed+GI magnitude']);
    expect(a.configurations.map((c) => c.name)).toEqual(['dense', 'hashed+GI random']);
    expect(a.magnitude).toBeUndefined(); // no calibration where magnitude GI is not audited
    const merged = mergeAuditReports([a, b], 'merge');
    expect(nums(merged)).toEqual(nums(report));
    expect(merged.magnitude).toEqual(report.magnitude);
    expect(merged.configurations.map((c) => c.adaptiveWorstCase)).toEqual(
      report.configurations.map((c) => c.adaptiveWorstCase),
    );
    expect(merged.examples.map((e) => e.config)).toEqual(report.examples.map((e) => e.config));
    expect(merged.parts!.map((p) => p.configurations)).toEqual([
      ['dense', 'hashed+GI random'],
      ['hashed', 'hashed+GI scale', 'hashed+GI magnitude'],
    ]);
    expect(auditMarkdown(merged)).toContain('Produced in 2 parts run side by side');
    // A part certified afterwards (--add-certificates) keeps that command beside its own, in the JSON and both
    // renderings; the merged report names no single certifying command.
    const certified = { ...a, certifyCommand: 'bun run audit -- --add-certificates a.json' };
    const joined = mergeAuditReports([certified, b], 'merge');
    expect(joined.certifyCommand).toBeUndefined();
    expect(joined.parts!.map((p) => p.certifyCommand)).toEqual([
      certified.certifyCommand,
      undefined,
    ]);
    expect(auditMarkdown(joined)).toContain(
      'certificates added by `bun run audit -- --add-certificates a.json`',
    );
    expect(auditHtml(joined)).toContain('certificates added by');
    expect(auditHtml(merged)).not.toContain('certificates added by');
    // Parts that overlap, or that audited other images, are refused with the reason.
    expect(() => mergeAuditReports([a, a], 'merge')).toThrow(
      /configuration 'dense' is in part 1 and part 2/,
    );
    expect(() => mergeAuditReports([a, { ...b, indexSha256: '0'.repeat(64) }], 'merge')).toThrow(
      /part 2 has indexSha256/,
    );
    await expect(run(['hashed+GI nothing'])).rejects.toThrow(
      /unknown configuration hashed\+GI nothing/,
    );
  }, 600_000);
});

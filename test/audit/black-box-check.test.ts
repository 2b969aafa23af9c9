// The per-image black-box masking checks: what a black-box attack alone breaks, per norm, against the white-box
// attacks of that norm on the same images; AutoAttack's Square rule on the cascade; a merge re-judges old parts.
import { describe, expect, test } from 'bun:test';
import {
  BLACK_BOX_ONLY_LIMIT,
  CASCADE_SQUARE_LIMIT,
  blackBoxChecks,
} from '../../src/audit/black-box-check.ts';
import { mergeAuditReports } from '../../src/audit/merge-reports.ts';
import type {
  AttackSummary,
  AuditReport,
  CascadeSummary,
  ConfigReport,
} from '../../src/audit/report-types.ts';

/** An attack row whose per-image bits are '1' at the given indices (of n images). */
function row(id: string, norm: 'linf' | 'l2', n: number, brokenAt: number[]): AttackSummary {
  const bits = Array.from({ length: n }, (_, i) => (brokenAt.includes(i) ? '1' : '0')).join('');
  return {
    id,
    name: id,
    describe: id,
    table: 'adaptive',
    norm,
    n,
    successRate: brokenAt.length / n,
    successAny: brokenAt.length / n,
    successSingle: brokenAt.length / n,
    medianL2: 0,
    medianLinf: 0,
    medianQueries: 0,
    seconds: 0,
    broken: bits,
  };
}
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
const byId = (attacks: AttackSummary[]) =>
  Object.fromEntries(blackBoxChecks(attacks).map((k) => [k.id, k]));

describe('black-box-not-better, per image', () => {
  test('counts only the images no white-box attack of the norm broke, on the black-box subset', () => {
    // PGD breaks images 0-9 of 1000; Square (first 100) breaks 0-9 and 50: one image alone, 1%: passes.
    const pgd = row('pgd-ce', 'linf', 1000, range(0, 10));
    expect(
      byId([pgd, row('square', 'linf', 100, [...range(0, 10), 50])])['black-box-not-better'].pass,
    ).toBe(true);
    // Two alone: 2% > 1%: flags, and the evidence names the count.
    const two = byId([pgd, row('square', 'linf', 100, [...range(0, 10), 50, 51])])[
      'black-box-not-better'
    ];
    expect(two.pass).toBe(false);
    expect(two.evidence).toContain('square alone breaks 2 of 100');
    // The same images broken by a second white-box attack are no longer the black box's alone.
    expect(
      byId([pgd, row('apgd-dlr', 'linf', 1000, [50, 51]), row('square', 'linf', 100, [50, 51])])[
        'black-box-not-better'
      ].pass,
    ).toBe(true);
    // A high success rate is not a flag when white-box attacks broke the same images (GI scale's CE masking
    // is zero-gradients' business once the adaptive attacks break it).
    expect(
      byId([
        row('fgsm', 'linf', 1000, []),
        row('pgd-cw', 'linf', 1000, range(0, 1000)),
        row('transfer', 'linf', 1000, range(0, 700)),
      ])['black-box-not-better'].pass,
    ).toBe(true);
    expect(BLACK_BOX_ONLY_LIMIT).toBe(0.01);
  });

  test('norms are judged apart: an L2 white-box attack does not cover an L∞ black box, and HopSkipJump meets C&W', () => {
    const checks = byId([
      row('cw-logits', 'l2', 100, range(0, 5)),
      row('square', 'linf', 100, range(0, 5)),
      row('pgd-ce', 'linf', 1000, []),
      row('hsj', 'l2', 100, range(0, 40)),
    ]);
    expect(checks['black-box-not-better'].pass).toBe(false);
    expect(checks['black-box-not-better-l2'].pass).toBe(false);
    expect(checks['black-box-not-better-l2'].evidence).toContain('hsj alone breaks 35 of 100');
    // Without any black-box attack both checks pass and say so.
    const none = byId([row('pgd-ce', 'linf', 1000, [])]);
    expect(none['black-box-not-better']).toMatchObject({
      pass: true,
      evidence: 'no black-box linf attack run',
    });
    expect(none['black-box-not-better-l2']).toMatchObject({
      pass: true,
      evidence: 'no black-box l2 attack run',
    });
  });

  test("AutoAttack's cascade: its own Square rule over all n images, and never white-box evidence for Square", () => {
    const cascade = (squareBroke: number): CascadeSummary => ({
      ...row('autoattack', 'linf', 1000, range(0, 100)),
      cascade: {
        components: [
          { name: 'APGD-CE', attacked: 1000, broken: 90 },
          { name: 'APGD-T(dlr)', attacked: 910, broken: 10 - squareBroke },
          { name: 'FAB-T-Linf', attacked: 900, broken: 0 },
          { name: 'Square-Linf', attacked: 900, broken: squareBroke },
        ],
        robustAccuracy: 0.9,
      },
    });
    const pgd = row('pgd-ce', 'linf', 1000, range(0, 90));
    expect(byId([pgd, cascade(2)])['black-box-not-better'].pass).toBe(true);
    const flagged = byId([pgd, cascade(3)])['black-box-not-better'];
    expect(flagged.pass).toBe(false);
    expect(flagged.evidence).toContain("AutoAttack's Square breaks 3 of 1000");
    expect(CASCADE_SQUARE_LIMIT).toBe(0.002);
    // The cascade's row includes what its Square broke, so it cannot vouch for the audit's own Square.
    expect(
      byId([pgd, cascade(0), row('square', 'linf', 100, [95, 96, 97])])['black-box-not-better']
        .pass,
    ).toBe(false);
  });

  test('without per-image bits the check compares success rates and says so', () => {
    const { broken: _a, ...pgd } = row('pgd-ce', 'linf', 1000, range(0, 10));
    const rates = (k: number) => {
      const { broken: _b, ...sq } = row('square', 'linf', 100, range(0, k));
      return byId([pgd, sq])['black-box-not-better'];
    };
    // PGD 1.0%: Square may reach 2.0%, not 3.0%.
    expect(rates(2).pass).toBe(true);
    expect(rates(3).pass).toBe(false);
    expect(rates(3).evidence).toContain('success rates only');
  });
});

describe('merge re-judges the black-box checks from the stored bits', () => {
  test('a part written under the old rate rule gets the per-image verdict and the L2 check', () => {
    const attacks = [
      row('pgd-ce', 'linf', 1000, range(0, 10)),
      row('square', 'linf', 100, [50, 51, 52]),
      row('cw', 'l2', 100, []),
      row('hsj', 'l2', 100, [1]),
    ];
    const config = {
      name: 'dense AT',
      attacks,
      checks: [
        { id: 'zero-gradients', pass: true, evidence: 'z' },
        {
          id: 'black-box-not-better',
          pass: true,
          evidence: 'best cross-entropy gradient attack 1.0%; square 3.0% (n 100)',
        },
        { id: 'randomness-needs-eot', pass: true, evidence: 'r' },
      ],
    } as unknown as ConfigReport;
    const part = {
      format: 1,
      family: 'f',
      dataset: 'mnist',
      command: 'c',
      date: '2026-01-01T00:00:00Z',
      dense: { name: 'd', weightsSha256: 'a' },
      hashed: { name: 'h', weightsSha256: 'b' },
      weightsSha256: 'b',
      n: 1000,
      nQuery: 100,
      seed: 1,
      indexSha256: 'i',
      budgets: {},
      verdictQueries: 10,
      configurations: [config],
      examples: [],
      seconds: 1,
    } as unknown as AuditReport;
    const merged = mergeAuditReports([part], 'merge');
    const checks = merged.configurations[0].checks;
    expect(checks.map((k) => k.id)).toEqual([
      'zero-gradients',
      'black-box-not-better',
      'black-box-not-better-l2',
      'randomness-needs-eot',
    ]);
    expect(checks[1].pass).toBe(false);
    expect(checks[1].evidence).toContain('square alone breaks 3 of 100');
    expect(checks[2].pass).toBe(true);
  });
});

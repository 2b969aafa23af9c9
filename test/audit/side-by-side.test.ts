// The side-by-side audit (eight configurations): robust accuracy against the per-image worst case, reported
// (paper-era) versus real (adaptive), the robust-accuracy ε sweep, the certified side of the bracket, weights
// identity, size and training cost, a merge of parts, and the summary table and SVG chart of the renderings. The committed mnist-lenet5 and
// mnist-lenet5-h8 stand in for the adversarially trained models: they were NOT adversarially trained, and the
// mechanism does not care (it reads provenance.adversarial only to report it, here null).
import { beforeAll, describe, expect, test } from 'bun:test';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset } from '../../src/data/node.ts';
import { validationSplit } from '../../src/data/index.ts';
import { MNIST_BUDGETS } from '../../src/audit/attack-suite.ts';
import { auditHtml } from '../../src/audit/report-html.ts';
import { auditMarkdown } from '../../src/audit/report-markdown.ts';
import type { AuditReport, ConfigReport } from '../../src/audit/report-types.ts';
import {
  runAudit,
  ROBUST_SWEEP_FACTORS,
  type AuditModel,
  type CascadeSummary,
} from '../../src/audit/run-audit.ts';
import { mergeAuditReports } from '../../src/audit/merge-reports.ts';
import { BRACKET_CHECK, bracketCheck, certifyReport } from '../../src/audit/certified-bracket.ts';
import { harden } from '../../src/defense/harden.ts';
import { loadModel } from '../../src/node.ts';
import { loadModelDir } from '../../src/io/model-dir.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { REPO_ROOT } from '../helpers/committed-models.ts';
import { trainingCost } from '../../src/audit/training-cost.ts';

const N = 24,
  NQ = 8;
const EIGHT = [
  'dense',
  'hashed',
  'hashed+GI scale',
  'hashed+GI magnitude',
  'hashed+GI random',
  'dense AT',
  'hashed AT',
  'hashed AT+GI random',
];
const dir = (name: string) => join(REPO_ROOT, 'models', name);
async function model(name: string): Promise<AuditModel> {
  const { manifest, tensors } = await loadModelDir(dir(name));
  return {
    name: manifest.name,
    model: new Sequential(manifest.input.shape, manifest.layers, tensors),
    weightsSha256: manifest.weights.sha256,
    provenance: manifest.provenance,
  };
}

let report: AuditReport;
const run = async (configurations?: string[]) => {
  const { test, train } = await loadDataset('mnist');
  return runAudit({
    configurations,
    family: 'mnist-lenet5',
    datasetName: 'mnist',
    dense: await model('mnist-lenet5'),
    hashed: await model('mnist-lenet5-h8'),
    denseAt: await model('mnist-lenet5'),
    hashedAt: await model('mnist-lenet5-h8'),
    test,
    validation: validationSplit(train, 5000).validation,
    n: N,
    nQuery: NQ,
    seed: 5,
    // Fewer PGD steps and Square queries than the standard budgets: the mechanism, not the numbers, is under test.
    budgets: { ...MNIST_BUDGETS, pgdSteps: 20, pgdAlpha: 0.02, squareQueries: 200 },
    attacks: ['fgsm', 'bim', 'pgd-ce', 'pgd-cw', 'eot-pgd', 'transfer', 'square'],
    command: 'test',
  });
};
const cfg = (name: string) => report.configurations.find((c) => c.name === name)!;
const ones = (s: string) => [...s].map((ch) => ch === '1');
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

describe('side-by-side audit (eight configurations)', () => {
  beforeAll(async () => {
    report = await run();
  }, 600_000);

  test('all eight configurations in order, every one with the masking checks (no special case for AT)', () => {
    expect(report.configurations.map((c) => c.name)).toEqual(EIGHT);
    expect(report.denseAt).toEqual({
      name: 'mnist-lenet5',
      weightsSha256: cfg('dense').weightsSha256!,
    });
    for (const c of report.configurations)
      expect(c.checks.map((k) => k.id).sort()).toEqual(
        cfg('dense')
          .checks.map((k) => k.id)
          .sort(),
      );
    expect(cfg('hashed AT+GI random').randomized).toBe(true);
    expect(cfg('hashed AT+GI random').stages).toEqual(cfg('hashed+GI random').stages);
    expect(cfg('dense AT').adversarialTraining).toBeNull();
  });

  test('robustAccuracy is the per-image worst case over the adaptive set, recomputed from the per-image verdicts', () => {
    for (const c of report.configurations) {
      const clean = ones(c.cleanCorrect!);
      expect(clean.filter(Boolean).length / N).toBe(c.cleanAccuracy);
      const hit = (table: 'paper' | 'adaptive') =>
        clean.map((_, i) =>
          c.attacks.filter((a) => a.table === table).some((a) => a.broken![i] === '1'),
        );
      const robust = (h: boolean[]) => clean.filter((ok, i) => ok && !h[i]).length / N;
      expect(c.robustAccuracy).toBe(robust(hit('adaptive')));
      expect(c.reportedRobustAccuracy).toBe(robust(hit('paper')));
      expect(c.robustAccuracy!).toBeLessThanOrEqual(c.cleanAccuracy);
      // Against the adaptive worst case over the attacks on all n: equal but for what the query-subset attacks add.
      const bound = c.cleanAccuracy * (1 - c.adaptiveWorstCase.full.successRate);
      expect(c.robustAccuracy!).toBeLessThanOrEqual(bound + 1e-9);
      expect(c.robustAccuracy!).toBeGreaterThanOrEqual(bound - NQ / N - 1e-9);
      expect(c.reportedRobustAccuracy!).toBeGreaterThanOrEqual(c.robustAccuracy!);
    }
    // GI scale masks the paper-era attacks: what they report overstates what holds.
    expect(
      cfg('hashed+GI scale').reportedRobustAccuracy! - cfg('hashed+GI scale').robustAccuracy!,
    ).toBeGreaterThan(0.3);
  });

  test('the ε sweep: six points, ε 0 is clean accuracy on the query subset, non-increasing within one image', () => {
    for (const c of report.configurations) {
      const sw = c.robustSweep!;
      expect(sw.map((p) => p.eps)).toEqual(
        ROBUST_SWEEP_FACTORS.map((f) => report.budgets.linf * f),
      );
      expect(sw[0].robustAccuracy).toBe(
        ones(c.cleanCorrect!).slice(0, NQ).filter(Boolean).length / NQ,
      );
      for (let i = 1; i < sw.length; i++)
        expect(sw[i].robustAccuracy).toBeLessThanOrEqual(sw[i - 1].robustAccuracy + 1 / NQ + 1e-9);
      // The monotone check's points are the sweep's own runs: success there and robust accuracy here agree.
      const check = c.checks.find((k) => k.id === 'monotone-in-eps')!.sweep!;
      expect(check.map((p) => p.eps)).toEqual([sw[1].eps, sw[2].eps, sw[4].eps]);
    }
  });

  test('the certified side: certified ≤ robust ≤ clean image by image and over the sweep, and the check that says so', () => {
    for (const c of report.configurations) {
      expect(c.certifiedMethod).toBe('crown-ibp');
      const certified = ones(c.certified!),
        clean = ones(c.cleanCorrect!);
      expect(certified.filter(Boolean).length / N).toBe(c.certifiedAccuracy!);
      expect(c.certifiedAccuracy!).toBeLessThanOrEqual(c.robustAccuracy!);
      certified.forEach((v, i) => {
        if (!v) return;
        expect(clean[i]).toBe(true);
        for (const a of c.attacks)
          if (a.norm !== 'l2' && a.norm !== 'l0') expect(a.broken![i]).toBe('0');
      });
      expect(c.certifiedSweep!.map((p) => p.eps)).toEqual(c.robustSweep!.map((p) => p.eps));
      c.certifiedSweep!.forEach((p, i) =>
        expect(p.certifiedAccuracy).toBeLessThanOrEqual(c.robustSweep![i].robustAccuracy),
      );
      expect(c.checks.find((k) => k.id === BRACKET_CHECK)!.pass).toBe(true);
    }
    // At ε 0 nearly every clean-correct image is certified (only float32 rounding is left to bound).
    const d = cfg('dense');
    expect(d.certifiedSweep![0].certifiedAccuracy).toBeGreaterThanOrEqual(
      d.robustSweep![0].robustAccuracy - 1 / NQ,
    );
  });

  test('the bracket check fails when a certified image is broken or certified exceeds robust anywhere', () => {
    const c = structuredClone(cfg('dense'));
    const i = [...c.cleanCorrect!].indexOf('1');
    c.certified = c
      .cleanCorrect!.replace(/1/g, '0')
      .split('')
      .map((v, k) => (k === i ? '1' : v))
      .join('');
    c.attacks[0].broken = c.attacks[0]
      .broken!.split('')
      .map((v, k) => (k === i ? '1' : v))
      .join('');
    const broken = bracketCheck(c);
    expect(broken.pass).toBe(false);
    expect(broken.evidence).toContain(`${c.attacks[0].id} broke 1 certified images`);
    const d = structuredClone(cfg('dense'));
    d.certifiedSweep = d.robustSweep!.map((p) => ({
      eps: p.eps,
      certifiedAccuracy: p.robustAccuracy + 0.1,
    }));
    expect(bracketCheck(d).pass).toBe(false);
    expect(bracketCheck(d).evidence).toContain('exceeds robust');
    expect(bracketCheck(cfg('dense')).pass).toBe(true);
  });

  test('certificates added to a finished report equal the ones the audit computed', async () => {
    // Every configuration but the first is stripped of its certified side; the first's certificates, by the
    // same method, are kept as they are (logged as kept), so the result must equal the report whole.
    const stripped: AuditReport = structuredClone(report);
    for (const c of stripped.configurations.slice(1)) {
      delete c.certified;
      delete c.certifiedAccuracy;
      delete c.certifiedSweep;
      c.checks = c.checks.filter((k) => k.id !== BRACKET_CHECK);
    }
    const load = async (name: string) => (await model(name)).model;
    const { test: t } = await loadDataset('mnist');
    const lines: string[] = [];
    const again = await certifyReport(
      stripped,
      {
        dense: await load('mnist-lenet5'),
        hashed: await load('mnist-lenet5-h8'),
        denseAt: await load('mnist-lenet5'),
        hashedAt: await load('mnist-lenet5-h8'),
      },
      t,
      'crown-ibp',
      (line) => lines.push(line),
    );
    expect(lines[0]).toContain('kept from the report');
    expect(lines.filter((l) => l.includes('kept from the report'))).toHaveLength(1);
    again.configurations.forEach((c, k) => {
      const want = report.configurations[k];
      expect(c.certified).toBe(want.certified!);
      expect(c.certifiedSweep).toEqual(want.certifiedSweep!);
      expect(c.checks).toEqual(want.checks);
    });
  }, 120_000);

  test('weights identity, size and training cost are filled from the committed models', async () => {
    const denseDir = await loadModelDir(dir('mnist-lenet5')),
      hashedDir = await loadModelDir(dir('mnist-lenet5-h8'));
    for (const name of ['dense', 'dense AT']) {
      expect(cfg(name).weightsSha256).toBe(denseDir.manifest.weights.sha256);
      expect(cfg(name).weightsBytes).toBe(
        statSync(join(dir('mnist-lenet5'), 'weights.safetensors')).size,
      );
    }
    // A query-time random stage leaves the source's weights: the committed mnist-lenet5-h8-gi has the same hash.
    for (const name of ['hashed', 'hashed+GI random', 'hashed AT', 'hashed AT+GI random']) {
      expect(cfg(name).weightsSha256).toBe(hashedDir.manifest.weights.sha256);
      expect(cfg(name).weightsBytes).toBe(
        statSync(join(dir('mnist-lenet5-h8'), 'weights.safetensors')).size,
      );
    }
    // GI scale edits the weights: the hash is the one `harden` records for the same edit.
    const scaled = await harden(await loadModel(dir('mnist-lenet5-h8')), [
      { kind: 'scale', alpha: 100 },
    ]);
    expect(cfg('hashed+GI scale').weightsSha256).toBe(scaled.manifest.weights.sha256);
    expect(cfg('hashed+GI magnitude').weightsSha256).not.toBe(hashedDir.manifest.weights.sha256);
    const count = (t: Map<string, { size: number }>) =>
      [...t.values()].reduce((s, x) => s + x.size, 0);
    expect(cfg('dense').storedParameters).toBe(count(denseDir.tensors));
    expect(cfg('hashed+GI scale').storedParameters).toBe(count(hashedDir.tensors));
    // CPU-minutes: Σ epoch seconds × threads (none recorded: 1) / 60; GI adds its edit at 0.
    const minutes = (p: Record<string, unknown>) =>
      (p.history as { seconds: number }[]).reduce((s, h) => s + h.seconds, 0) / 60;
    expect(cfg('dense').trainingCost!.cpuMinutes).toBeCloseTo(
      minutes(denseDir.manifest.provenance),
      9,
    );
    expect(cfg('hashed').trainingCost!.cpuMinutes).toBeCloseTo(
      minutes(hashedDir.manifest.provenance),
      9,
    );
    for (const c of report.configurations) {
      expect(c.trainingCost!.cpuMinutes).toBeGreaterThan(1);
      expect(c.trainingCost!.complete).toBe(true);
      expect(c.trainingCost!.items.some((i) => i.stage === 'harden')).toBe(c.stages.length > 0);
    }
    expect(cfg('hashed AT+GI random').trainingCost!.cpuMinutes).toBe(
      cfg('hashed AT').trainingCost!.cpuMinutes,
    );
  });

  test('Markdown has the summary table and sweep table; HTML the summary and an SVG line chart; cascade counts render', () => {
    // A cascade row as the autoattack suite writes it (not run here: it costs minutes per configuration).
    const withCascade: AuditReport = structuredClone(report);
    const row: CascadeSummary = {
      ...withCascade.configurations[1].attacks[0],
      id: 'autoattack',
      table: 'adaptive',
      cascade: {
        components: [
          { name: 'APGD-CE', attacked: 23, broken: 20 },
          { name: 'APGD-T', attacked: 3, broken: 1 },
        ],
        robustAccuracy: 2 / 24,
      },
    };
    withCascade.configurations[1].attacks.push(row);
    const md = auditMarkdown(withCascade);
    expect(md).toContain('## Summary: reported versus real');
    expect(md).toMatch(
      /\| configuration \| clean accuracy \| paper-era average success \| reported robust accuracy .*\| robust accuracy .*\| gap \|/,
    );
    for (const name of EIGHT) expect(md).toContain(`| ${name} | `);
    expect(md.indexOf('## Summary')).toBeLessThan(md.indexOf('## Paper table'));
    expect(md).toContain('## Robust accuracy against ε');
    expect(md).toContain('| hashed | autoattack | APGD-CE 20/23, APGD-T 1/3 | 8.3% |');
    const html = auditHtml(withCascade);
    expect(html).toContain(
      '<h2 id="summary">Summary: reported versus real</h2><div class="table-wrap"><table>',
    );
    const chart = html.slice(html.indexOf('aria-label="Robust and certified accuracy against ε'));
    // A solid robust line and a dashed certified one per configuration.
    const svg = chart.slice(0, chart.indexOf('</svg>'));
    expect(svg.match(/<polyline/g)!.length).toBe(16);
    expect(svg.match(/<polyline[^>]*stroke-dasharray/g)!.length).toBe(8);
    expect(chart).toContain('>robust / certified accuracy</text>');
    expect(md).toMatch(/\| robust accuracy \(adaptive worst case\) \| certified accuracy \|/);
    expect(md).toContain(`| ${pct(cfg('dense').certifiedAccuracy!)} (crown-ibp) |`);
    expect(html).toContain('APGD-CE 20/23');
    expect(html).not.toContain('<script');
  });

  test('AT configurations run in a part and merged with the rest equal the single run, new fields included', async () => {
    const at = ['hashed AT+GI random', 'dense AT', 'hashed AT'];
    const a = await run(at);
    expect(a.configurations.map((c) => c.name)).toEqual([
      'dense AT',
      'hashed AT',
      'hashed AT+GI random',
    ]);
    // The other part cut from the single run (running it again would only repeat the same numbers).
    const b: AuditReport = {
      ...report,
      denseAt: undefined,
      hashedAt: undefined,
      configurations: report.configurations.filter((c) => !at.includes(c.name)),
      examples: report.examples.filter((e) => !at.includes(e.config)),
    };
    delete b.denseAt;
    delete b.hashedAt;
    const merged = mergeAuditReports([b, a], 'merge');
    const fields = (c: ConfigReport) => {
      const { attacks, checks, certifySeconds: _c, ...rest } = c;
      return { ...rest, attacks: attacks.map(({ seconds: _s, ...x }) => x), checks };
    };
    expect(merged.configurations.map(fields)).toEqual(report.configurations.map(fields));
    expect(merged.denseAt).toEqual(report.denseAt);
    expect(merged.hashedAt).toEqual(report.hashedAt);
    expect(() =>
      mergeAuditReports(
        [
          report,
          { ...a, configurations: [], hashedAt: { name: 'x', weightsSha256: '0'.repeat(64) } },
        ],
        'merge',
      ),
    ).toThrow(/part 2 audits another --hashed-at model/);
    // Asking for an AT configuration without its model is refused before any work.
    const { test: t } = await loadDataset('mnist');
    await expect(
      runAudit({
        family: 'f',
        datasetName: 'mnist',
        dense: await model('mnist-lenet5'),
        hashed: await model('mnist-lenet5-h8'),
        test: t,
        n: 4,
        nQuery: 4,
        seed: 1,
        budgets: MNIST_BUDGETS,
        configurations: ['dense AT'],
        command: 'x',
      }),
    ).rejects.toThrow(/'dense AT' needs the adversarially trained dense model \(--dense-at\)/);
  }, 600_000);
});

describe('training cost from provenance', () => {
  const history = (...s: number[]) => s.map((seconds, epoch) => ({ epoch, seconds }));
  test('epoch seconds × threads, secondsPerEpoch without history, null without epoch times', () => {
    expect(trainingCost('m', { epochs: 2, threads: 2, history: history(30, 90) }).cpuMinutes).toBe(
      4,
    );
    expect(trainingCost('m', { epochs: 3, secondsPerEpoch: 20 }).cpuMinutes).toBe(1);
    expect(trainingCost('m', { epochs: 3 }).cpuMinutes).toBeNull();
    expect(trainingCost('m', undefined).cpuMinutes).toBeNull();
  });

  test("a converted model adds its source's cost when the source is at hand, else it is a lower bound", async () => {
    const ft = (await loadModelDir(dir('mnist-lenet5-h8-converted-ft10'))).manifest.provenance;
    const dense = (await loadModelDir(dir('mnist-lenet5'))).manifest.provenance;
    const alone = trainingCost('ft10', ft);
    expect(alone.complete).toBe(false);
    expect(alone.items.map((i) => i.stage)).toEqual(['finetune']);
    const whole = trainingCost('ft10', ft, (sha) =>
      sha === (ft.convertedFrom as { weightsSha256: string }).weightsSha256
        ? { name: 'mnist-lenet5', provenance: dense }
        : null,
    );
    expect(whole.complete).toBe(true);
    expect(whole.cpuMinutes).toBeCloseTo(
      alone.cpuMinutes! + trainingCost('mnist-lenet5', dense).cpuMinutes!,
      9,
    );
  });
});

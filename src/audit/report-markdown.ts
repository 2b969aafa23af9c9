// The audit as Markdown: the side-by-side summary (reported versus real robust accuracy, cost, size), the
// robust-accuracy ε sweep, the paper table, the adaptive table with the per-example worst case, the AutoAttack
// cascade's components, and the gradient-masking checks with their evidence.
import type { AuditReport, CascadeSummary, ConfigReport } from './report-types.ts';
import { count, missing, num, pct, pp } from './report-format.ts';
import { TRAINING_COST_METHOD } from './training-cost.ts';

/** reported − real robust accuracy, in percentage points: how much a paper-era evaluation overstates. */
export function robustnessGap(c: ConfigReport): number | null {
  return missing(c.reportedRobustAccuracy) || missing(c.robustAccuracy)
    ? null
    : c.reportedRobustAccuracy - c.robustAccuracy;
}
/** CPU-minutes; '≥' where a converted model's source cost was not available. */
export const cpuMinutes = (c: ConfigReport) => {
  const t = c.trainingCost;
  if (!t || missing(t.cpuMinutes)) return '—';
  return `${t.complete ? '' : '≥ '}${t.cpuMinutes.toFixed(1)}`;
};
export const flagCount = (c: ConfigReport) => {
  const flags = c.checks.filter((k) => !k.pass).map((k) => k.id);
  return flags.length ? `${flags.length} (${flags.join(', ')})` : '0';
};
/** The AutoAttack rows (cascade components) of a configuration. */
export const cascades = (c: ConfigReport) =>
  c.attacks.filter(
    (a): a is CascadeSummary => 'cascade' in a && Boolean((a as CascadeSummary).cascade),
  );
/** Text shared by the Markdown and HTML summaries: what the columns mean. */
export const SUMMARY_NOTE =
  "Robust accuracy is measured in one threat model, L∞ at the budget's ε. Reported = what a paper-era evaluation would report: robust accuracy under the per-image worst case " +
  'over the paper-era L∞ attacks (FGSM, BIM), beside the average success rate of all four paper-era attacks (FGSM, BIM, JSMA, C&W-L2). Real = robust accuracy under the ' +
  'per-image worst case over every adaptive L∞ attack run (the AutoAttack cascade included when run); the L2 rows (C&W-L2, HopSkipJump) stay in the attack tables. ' +
  'Robust accuracy is the share of ALL n images still correctly classified (misclassified-clean images are not robust; images past the first nQuery are judged by ' +
  'the attacks run on all n); gap = reported − real. Stored weights: every stored tensor element (hashed layers: their real weights); bytes: the size of weights.safetensors ' +
  '(header + 4 bytes per float32 weight). Certified = the share of ALL n images that a sound bound (src/verify, the method named) proves no L∞ perturbation ' +
  'within the budget can change, for a random stage every logit scale and every noise draw within ±5σ: the lower side of the bracket certified ≤ robust ≤ clean, ' +
  'checked image by image (check certified-never-broken); a dash where the report has no certificates. ';
export const SWEEP_NOTE =
  "Robust accuracy on the first nQuery images under PGD with the CW margin loss (the budget's steps, step size scaled with ε, uniform random start; " +
  'EOT over 4 draws with margin κ 5 and every step for randomized configurations, verdict by most of the fresh queries), the attack of the monotone-in-eps check, ' +
  'whose 0.25, 0.5 and 1 × ε runs are reused. ε 0 is clean accuracy on those images. Certified (in brackets, and dashed in the chart): the share of the same images ' +
  'certified at that ε, which can never exceed the robust accuracy beside it.';

/** Certified accuracy with its method, or a dash for a report without certificates. */
export function certifiedCell(c: ConfigReport): string {
  return c.certifiedAccuracy === undefined
    ? '—'
    : `${pct(c.certifiedAccuracy)} (${c.certifiedMethod})`;
}

export function auditMarkdown(r: AuditReport): string {
  const L: string[] = [];
  const cfgs = r.configurations;
  L.push(`# Robustness audit: ${r.family} (${r.dataset})`, '');
  L.push(
    `Dense model \`${r.dense.name}\`, hashed model \`${r.hashed.name}\` (weights sha256 \`${r.weightsSha256}\`). ` +
      `${r.n} test images (query-based attacks: the first ${r.nQuery}), seed ${r.seed}, subset index sha256 \`${r.indexSha256.slice(0, 16)}…\`. ` +
      `Budgets: L∞ ε ${r.budgets.linf.toFixed(4)} (PGD ${r.budgets.pgdSteps} × ${r.budgets.pgdAlpha.toFixed(4)}), L2 ε ${r.budgets.l2}${r.budgets.cwLearningRate !== undefined ? ` (C&W-L2 at Adam lr ${r.budgets.cwLearningRate})` : ''}, Square ${r.budgets.squareQueries} and HopSkipJump ${r.budgets.hsjQueries} queries per image. ` +
      `Success rate = share of clean-correct images misclassified; for randomized configurations an image counts as broken when most of ${r.verdictQueries} fresh queries misclassify it. ` +
      (r.parts
        ? `Produced in ${r.parts.length} parts run side by side, ${(r.seconds / 60).toFixed(1)} min of computation in all: ` +
          r.parts
            .map(
              (p) =>
                `\`${p.command}\` (${p.configurations.join(', ')}; ${(p.seconds / 60).toFixed(1)} min)` +
                (p.certifyCommand ? `, certificates added by \`${p.certifyCommand}\`` : ''),
            )
            .join(', ') +
          `; joined by \`${r.command}\`.`
        : `Produced by \`${r.command}\` in ${(r.seconds / 60).toFixed(1)} min.`) +
      (r.certifyCommand ? ` Certificates added by \`${r.certifyCommand}\`.` : ''),
    '',
  );
  if (cfgs.some((c) => c.robustAccuracy !== undefined)) {
    L.push(
      '## Summary: reported versus real',
      '',
      '| configuration | clean accuracy | paper-era average success | reported robust accuracy (paper-era worst case) | robust accuracy (adaptive worst case) | certified accuracy | gap | training CPU-minutes | stored weights | weights.safetensors bytes | masking flags |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const c of cfgs) {
      L.push(
        `| ${c.name} | ${pct(c.cleanAccuracy)} | ${pct(c.paperAverage)} | ${pct(c.reportedRobustAccuracy)} | **${pct(c.robustAccuracy)}** | ${certifiedCell(c)} | ${pp(robustnessGap(c))} | ` +
          `${cpuMinutes(c)} | ${count(c.storedParameters)} | ${count(c.weightsBytes)} | ${flagCount(c)} |`,
      );
    }
    L.push('', SUMMARY_NOTE + TRAINING_COST_METHOD, '');
    L.push(
      '## Models',
      '',
      '| configuration | model | adversarial training | weights sha256 | training cost |',
      '|---|---|---|---|---|',
    );
    for (const c of cfgs) {
      const items =
        c.trainingCost?.items
          .map((i) => `${i.model} ${i.stage}: ${num(i.cpuMinutes, 1)} (${i.basis})`)
          .join('; ') ?? '—';
      L.push(
        `| ${c.name} | ${c.model ?? '—'} | ${c.adversarialTraining ?? 'none recorded'} | \`${c.weightsSha256 ?? '—'}\` | ${items || '—'} |`,
      );
    }
    L.push('');
  }
  const swept = cfgs.filter((c) => c.robustSweep?.length);
  if (swept.length) {
    L.push(
      `## Robust accuracy against ε (first ${r.nQuery} images)`,
      '',
      `| ε (× budget) | ${swept.map((c) => c.name).join(' | ')} |`,
      `|---|${swept.map(() => '---').join('|')}|`,
    );
    swept[0].robustSweep!.forEach((p, i) => {
      L.push(
        `| ${p.eps.toFixed(4)} (${(p.eps / r.budgets.linf).toFixed(2)}) | ${swept.map((c) => pct(c.robustSweep![i]?.robustAccuracy) + (c.certifiedSweep ? ` (${pct(c.certifiedSweep[i]?.certifiedAccuracy)})` : '')).join(' | ')} |`,
      );
    });
    L.push('', SWEEP_NOTE, '');
  }
  L.push(
    '## Clean accuracy and gradients',
    '',
    `| configuration | clean accuracy | exactly-zero input gradients |`,
    '|---|---|---|',
  );
  for (const c of cfgs)
    L.push(`| ${c.name} | ${pct(c.cleanAccuracy)} | ${pct(c.zeroGradientShare)} |`);
  const cal = r.magnitude?.calibration;
  if (r.magnitude) {
    L.push(
      '',
      `Magnitude GI uses ε ${r.magnitude.eps}` +
        (cal
          ? `, the largest grid value keeping the hashed model's clean accuracy on the ${cal.rowCount}-image ${cal.rows ? 'validation split (training rows held out of training)' : 'test split'} within ${cal.tolerancePp} pp ` +
            `(accuracy change per ε: ${cal.sweep.map((p) => `${p.eps}: ${p.changePp >= 0 ? '+' : ''}${p.changePp.toFixed(2)} pp`).join(', ')}).`
          : ' (given).'),
    );
  }
  const table = (kind: 'paper' | 'adaptive') => {
    const ids = [
      ...new Set(cfgs.flatMap((c) => c.attacks.filter((a) => a.table === kind).map((a) => a.id))),
    ];
    L.push(
      `| attack | ${cfgs.map((c) => c.name).join(' | ')} |`,
      `|---|${cfgs.map(() => '---').join('|')}|`,
    );
    for (const id of ids) {
      const any = cfgs.flatMap((c) => c.attacks).find((a) => a.id === id)!;
      L.push(
        `| ${any.describe} (n ${any.n}) | ${cfgs.map((c) => pct(c.attacks.find((a) => a.id === id)?.successRate)).join(' | ')} |`,
      );
    }
  };
  L.push('', "## Paper table (the attacks of the paper's era)", '');
  table('paper');
  L.push(`| **average** | ${cfgs.map((c) => `**${pct(c.paperAverage)}**`).join(' | ')} |`);
  L.push(
    '',
    'The paper (Liu & Wen, TNNLS 2023) reports an average of 87.99% → 4.77% on MNIST (86.74% → 4.64% on CIFAR-10).',
    '',
  );
  L.push('## Adaptive table', '');
  table('adaptive');
  L.push(
    `| **worst case per image, attacks on all ${r.n}** | ${cfgs.map((c) => `**${pct(c.adaptiveWorstCase.full.successRate)}**`).join(' | ')} |`,
  );
  L.push(
    `| **worst case per image, every adaptive attack (first ${r.nQuery})** | ${cfgs.map((c) => `**${pct(c.adaptiveWorstCase.query.successRate)}**`).join(' | ')} |`,
  );
  const withCascade = cfgs.filter((c) => cascades(c).length);
  if (withCascade.length) {
    L.push(
      '',
      '## AutoAttack cascade: images each component attacked and broke',
      '',
      '| configuration | attack | components (broken / attacked) | robust accuracy of the row |',
      '|---|---|---|---|',
    );
    for (const c of withCascade) {
      for (const a of cascades(c))
        L.push(
          `| ${c.name} | ${a.id} | ${a.cascade.components.map((k) => `${k.name} ${k.broken}/${k.attacked}`).join(', ')} | ${pct(a.cascade.robustAccuracy)} |`,
        );
    }
  }
  L.push('', '## Gradient-masking checks', '');
  for (const c of cfgs) {
    L.push(`### ${c.name}`, '');
    for (const k of c.checks)
      L.push(`- ${k.pass ? 'pass' : '**FLAG**'} \`${k.id}\`: ${k.evidence}`);
    L.push('');
  }
  const rnd = cfgs.filter((c) => c.randomized);
  if (rnd.length) {
    L.push(
      '## Randomized configurations: verdict rules',
      '',
      `| configuration | attack | most of ${r.verdictQueries} | any of ${r.verdictQueries} | single query |`,
      '|---|---|---|---|---|',
    );
    for (const c of rnd)
      for (const a of c.attacks)
        L.push(
          `| ${c.name} | ${a.id} | ${pct(a.successRate)} | ${pct(a.successAny)} | ${pct(a.successSingle)} |`,
        );
    L.push('');
  }
  L.push(
    '## Attack details',
    '',
    '| configuration | attack | n | success | median L2 | median L∞ | median queries | seconds |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const c of cfgs)
    for (const a of c.attacks)
      L.push(
        `| ${c.name} | ${a.name} | ${a.n} | ${pct(a.successRate)} | ${num(a.medianL2, 3)} | ${num(a.medianLinf, 3)} | ${count(a.medianQueries)} | ${a.seconds.toFixed(1)} |`,
      );
  return L.join('\n') + '\n';
}

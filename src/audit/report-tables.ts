// The audit's tables as data, one per table of the Markdown report and with the same header cells (a test
// holds them to it): summary, models, robust accuracy against ε, clean accuracy and gradients, the paper and
// adaptive tables, the AutoAttack cascade, the randomized verdict rules and the attack details.
import type { AuditReport, ConfigReport } from './report-types.ts';
import type { Cell, TableSpec } from './html-table.ts';
import { count, num, pct, pp } from './report-format.ts';
import {
  cascades,
  certifiedCell,
  cpuMinutes,
  flagCount,
  robustnessGap,
  SUMMARY_NOTE,
  SWEEP_NOTE,
} from './report-markdown.ts';
import { configurationColor } from './svg-parts.ts';
import { TRAINING_COST_METHOD } from './training-cost.ts';

/** A configuration's name with its chart colour. */
const nameCell = (c: ConfigReport | string): Cell => {
  const name = typeof c === 'string' ? c : c.name;
  return { text: name, swatch: configurationColor(name) };
};
const strong = (text: string): Cell => ({ text, strong: true });

/** The side-by-side summary (absent in reports written before it existed). */
export function summaryTable(r: AuditReport): TableSpec | null {
  if (!r.configurations.some((c) => c.robustAccuracy !== undefined)) return null;
  return {
    head: [
      'configuration',
      'clean accuracy',
      'paper-era average success',
      'reported robust accuracy (paper-era worst case)',
      'robust accuracy (adaptive worst case)',
      'certified accuracy',
      'gap',
      'training CPU-minutes',
      'stored weights',
      'weights.safetensors bytes',
      'masking flags',
    ],
    rows: r.configurations.map((c) => [
      nameCell(c),
      pct(c.cleanAccuracy),
      pct(c.paperAverage),
      pct(c.reportedRobustAccuracy),
      strong(pct(c.robustAccuracy)),
      certifiedCell(c),
      pp(robustnessGap(c)),
      cpuMinutes(c),
      count(c.storedParameters),
      count(c.weightsBytes),
      flagCount(c),
    ]),
    textColumns: [10],
    note: SUMMARY_NOTE + TRAINING_COST_METHOD,
  };
}

/** Each configuration's model, adversarial training, weights hash and training cost. */
export function modelsTable(r: AuditReport): TableSpec | null {
  if (!r.configurations.some((c) => c.robustAccuracy !== undefined)) return null;
  return {
    head: ['configuration', 'model', 'adversarial training', 'weights sha256', 'training cost'],
    rows: r.configurations.map((c) => [
      nameCell(c),
      c.model ?? '—',
      c.adversarialTraining ?? 'none recorded',
      { text: c.weightsSha256 ?? '—', code: true },
      c.trainingCost?.items
        .map((i) => `${i.model} ${i.stage}: ${num(i.cpuMinutes, 1)} (${i.basis})`)
        .join('; ') || '—',
    ]),
    textColumns: [1, 2, 3, 4],
  };
}

/** Robust (and certified, in brackets) accuracy at each ε of the sweep. */
export function sweepTable(r: AuditReport): TableSpec | null {
  const swept = r.configurations.filter((c) => c.robustSweep?.length);
  if (!swept.length) return null;
  return {
    head: ['ε (× budget)', ...swept.map((c) => c.name)],
    rows: swept[0].robustSweep!.map((p, i) => [
      `${p.eps.toFixed(4)} (${(p.eps / r.budgets.linf).toFixed(2)})`,
      ...swept.map(
        (c) =>
          pct(c.robustSweep![i]?.robustAccuracy) +
          (c.certifiedSweep ? ` (${pct(c.certifiedSweep[i]?.certifiedAccuracy)})` : ''),
      ),
    ]),
    note: SWEEP_NOTE,
  };
}

/** Clean accuracy and the share of exactly-zero input gradients. */
export function gradientsTable(r: AuditReport): TableSpec {
  return {
    head: ['configuration', 'clean accuracy', 'exactly-zero input gradients'],
    rows: r.configurations.map((c) => [
      nameCell(c),
      pct(c.cleanAccuracy),
      pct(c.zeroGradientShare),
    ]),
  };
}

/** Attack ids of one table in first-seen order across the configurations. */
export function attackIds(r: AuditReport, table: 'paper' | 'adaptive'): string[] {
  return [
    ...new Set(
      r.configurations.flatMap((c) => c.attacks.filter((a) => a.table === table).map((a) => a.id)),
    ),
  ];
}

/** The paper table (with the average) or the adaptive table (with the per-image worst cases). */
export function attackTable(r: AuditReport, table: 'paper' | 'adaptive'): TableSpec {
  const cfgs = r.configurations;
  const rows = attackIds(r, table).map((id) => {
    const any = cfgs.flatMap((c) => c.attacks).find((a) => a.id === id)!;
    return [
      `${any.describe} (n ${any.n})`,
      ...cfgs.map((c) => pct(c.attacks.find((a) => a.id === id)?.successRate)),
    ];
  });
  const foot: Cell[][] =
    table === 'paper'
      ? [[strong('average'), ...cfgs.map((c) => strong(pct(c.paperAverage)))]]
      : [
          [
            strong(`worst case per image, attacks on all ${r.n}`),
            ...cfgs.map((c) => strong(pct(c.adaptiveWorstCase.full.successRate))),
          ],
          [
            strong(`worst case per image, every adaptive attack (first ${r.nQuery})`),
            ...cfgs.map((c) => strong(pct(c.adaptiveWorstCase.query.successRate))),
          ],
        ];
  return {
    head: ['attack', ...cfgs.map((c) => c.name)],
    rows,
    foot,
    note:
      table === 'paper'
        ? 'The paper (Liu & Wen, TNNLS 2023) reports an average of 87.99% → 4.77% on MNIST (86.74% → 4.64% on CIFAR-10).'
        : undefined,
  };
}

/** The AutoAttack cascade's components: images each attacked and broke. */
export function cascadeTable(r: AuditReport): TableSpec | null {
  const rows = r.configurations.flatMap((c) =>
    cascades(c).map((a): Cell[] => [
      nameCell(c),
      a.id,
      a.cascade.components.map((k) => `${k.name} ${k.broken}/${k.attacked}`).join(', '),
      pct(a.cascade.robustAccuracy),
    ]),
  );
  if (!rows.length) return null;
  return {
    head: [
      'configuration',
      'attack',
      'components (broken / attacked)',
      'robust accuracy of the row',
    ],
    rows,
    textColumns: [1, 2],
  };
}

/** Success by the three verdict rules for the randomized configurations. */
export function verdictRulesTable(r: AuditReport): TableSpec | null {
  const rnd = r.configurations.filter((c) => c.randomized);
  if (!rnd.length) return null;
  const q = r.verdictQueries;
  return {
    head: ['configuration', 'attack', `most of ${q}`, `any of ${q}`, 'single query'],
    rows: rnd.flatMap((c) =>
      c.attacks.map((a) => [
        nameCell(c),
        a.id,
        pct(a.successRate),
        pct(a.successAny),
        pct(a.successSingle),
      ]),
    ),
    textColumns: [1],
  };
}

/** Every attack row: images, success, median norms and queries, seconds. */
export function attackDetailsTable(r: AuditReport): TableSpec {
  return {
    head: [
      'configuration',
      'attack',
      'n',
      'success',
      'median L2',
      'median L∞',
      'median queries',
      'seconds',
    ],
    rows: r.configurations.flatMap((c) =>
      c.attacks.map((a) => [
        nameCell(c),
        a.name,
        String(a.n),
        pct(a.successRate),
        num(a.medianL2, 3),
        num(a.medianLinf, 3),
        count(a.medianQueries),
        a.seconds.toFixed(1),
      ]),
    ),
    textColumns: [1],
  };
}

/** The magnitude stage's ε and its calibration, as one sentence (the Markdown's paragraph). */
export function magnitudeSentence(r: AuditReport): string | null {
  if (!r.magnitude) return null;
  const cal = r.magnitude.calibration;
  return (
    `Magnitude GI uses ε ${r.magnitude.eps}` +
    (cal
      ? `, the largest grid value keeping the hashed model's clean accuracy on the ${cal.rowCount}-image ${cal.rows ? 'validation split (training rows held out of training)' : 'test split'} within ${cal.tolerancePp} pp ` +
        `(accuracy change per ε: ${cal.sweep.map((p) => `${p.eps}: ${p.changePp >= 0 ? '+' : ''}${p.changePp.toFixed(2)} pp`).join(', ')}).`
      : ' (given).')
  );
}

// The audit as Markdown: the paper table, the adaptive table with the per-example worst case, and the
// gradient-masking checks with their evidence.
import type { AuditReport } from './report-types.ts';

// A missing number (NaN in a fresh report, null once it has been through JSON, as in a merge) prints as a dash.
const missing = (v: number | null | undefined): v is null | undefined => v === null || v === undefined || Number.isNaN(v);
const pct = (v: number | null | undefined) => (missing(v) ? '—' : `${(100 * v).toFixed(1)}%`);
const num = (v: number | null | undefined, digits: number) => (missing(v) ? '—' : v.toFixed(digits));
const count = (v: number | null | undefined) => (missing(v) ? '—' : String(v));

export function auditMarkdown(r: AuditReport): string {
  const L: string[] = [];
  const cfgs = r.configurations;
  L.push(`# Robustness audit: ${r.family} (${r.dataset})`, '');
  L.push(`Dense model \`${r.dense.name}\`, hashed model \`${r.hashed.name}\` (weights sha256 \`${r.weightsSha256}\`). ` +
    `${r.n} test images (query-based attacks: the first ${r.nQuery}), seed ${r.seed}, subset index sha256 \`${r.indexSha256.slice(0, 16)}…\`. ` +
    `Budgets: L∞ ε ${r.budgets.linf.toFixed(4)} (PGD ${r.budgets.pgdSteps} × ${r.budgets.pgdAlpha.toFixed(4)}), L2 ε ${r.budgets.l2}${r.budgets.cwLearningRate !== undefined ? ` (C&W-L2 at Adam lr ${r.budgets.cwLearningRate})` : ''}, Square ${r.budgets.squareQueries} and HopSkipJump ${r.budgets.hsjQueries} queries per image. ` +
    `Success rate = share of clean-correct images misclassified; for randomized configurations an image counts as broken when most of ${r.verdictQueries} fresh queries misclassify it. ` +
    (r.parts
      ? `Produced in ${r.parts.length} parts run side by side, ${(r.seconds / 60).toFixed(1)} min of computation in all: ` +
        r.parts.map((p) => `\`${p.command}\` (${p.configurations.join(', ')}; ${(p.seconds / 60).toFixed(1)} min)`).join(', ') + `; joined by \`${r.command}\`.`
      : `Produced by \`${r.command}\` in ${(r.seconds / 60).toFixed(1)} min.`), '');
  L.push('## Clean accuracy and gradients', '', `| configuration | clean accuracy | exactly-zero input gradients |`, '|---|---|---|');
  for (const c of cfgs) L.push(`| ${c.name} | ${pct(c.cleanAccuracy)} | ${pct(c.zeroGradientShare)} |`);
  const cal = r.magnitude?.calibration;
  if (r.magnitude) {
    L.push('', `Magnitude GI uses ε ${r.magnitude.eps}` + (cal
      ? `, the largest grid value keeping the hashed model's clean accuracy on the ${cal.rowCount}-image test split within ${cal.tolerancePp} pp ` +
        `(accuracy change per ε: ${cal.sweep.map((p) => `${p.eps}: ${p.changePp >= 0 ? '+' : ''}${p.changePp.toFixed(2)} pp`).join(', ')}).`
      : ' (given).'));
  }
  const table = (kind: 'paper' | 'adaptive') => {
    const ids = [...new Set(cfgs.flatMap((c) => c.attacks.filter((a) => a.table === kind).map((a) => a.id)))];
    L.push(`| attack | ${cfgs.map((c) => c.name).join(' | ')} |`, `|---|${cfgs.map(() => '---').join('|')}|`);
    for (const id of ids) {
      const any = cfgs.flatMap((c) => c.attacks).find((a) => a.id === id)!;
      L.push(`| ${any.describe} (n ${any.n}) | ${cfgs.map((c) => pct(c.attacks.find((a) => a.id === id)?.successRate)).join(' | ')} |`);
    }
  };
  L.push('', '## Paper table (the attacks of the paper\'s era)', '');
  table('paper');
  L.push(`| **average** | ${cfgs.map((c) => `**${pct(c.paperAverage)}**`).join(' | ')} |`);
  L.push('', 'The paper (Liu & Wen, TNNLS 2023) reports an average of 87.99% → 4.77% on MNIST (86.74% → 4.64% on CIFAR-10).', '');
  L.push('## Adaptive table', '');
  table('adaptive');
  L.push(`| **worst case per image, attacks on all ${r.n}** | ${cfgs.map((c) => `**${pct(c.adaptiveWorstCase.full.successRate)}**`).join(' | ')} |`);
  L.push(`| **worst case per image, every adaptive attack (first ${r.nQuery})** | ${cfgs.map((c) => `**${pct(c.adaptiveWorstCase.query.successRate)}**`).join(' | ')} |`);
  L.push('', '## Gradient-masking checks', '');
  for (const c of cfgs) {
    L.push(`### ${c.name}`, '');
    for (const k of c.checks) L.push(`- ${k.pass ? 'pass' : '**FLAG**'} \`${k.id}\`: ${k.evidence}`);
    L.push('');
  }
  const rnd = cfgs.filter((c) => c.randomized);
  if (rnd.length) {
    L.push('## Randomized configurations: verdict rules', '', `| configuration | attack | most of ${r.verdictQueries} | any of ${r.verdictQueries} | single query |`, '|---|---|---|---|---|');
    for (const c of rnd) for (const a of c.attacks) L.push(`| ${c.name} | ${a.id} | ${pct(a.successRate)} | ${pct(a.successAny)} | ${pct(a.successSingle)} |`);
    L.push('');
  }
  L.push('## Attack details', '', '| configuration | attack | n | success | median L2 | median L∞ | median queries | seconds |', '|---|---|---|---|---|---|---|---|');
  for (const c of cfgs) for (const a of c.attacks) L.push(`| ${c.name} | ${a.name} | ${a.n} | ${pct(a.successRate)} | ${num(a.medianL2, 3)} | ${num(a.medianLinf, 3)} | ${count(a.medianQueries)} | ${a.seconds.toFixed(1)} |`);
  return L.join('\n') + '\n';
}

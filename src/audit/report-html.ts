// The audit as one self-contained HTML page a person reads: a verdict generated from the numbers, then the
// summary, the ε sweep, the paper-era and adaptive attacks (charts and tables), the masking checks as badges, the
// image grid, and the detail tables. No script, font or image from elsewhere; readable from 375 px wide.
import type { AuditReport, ImageExample } from './report-types.ts';
import { htmlTable, type TableSpec } from './html-table.ts';
import { attackChart, robustSweepChart, successSweepChart } from './report-charts.ts';
import { checksHtml } from './report-checks.ts';
import { esc } from './report-format.ts';
import { imageGridHtml } from './report-images.ts';
import {
  attackDetailsTable,
  attackTable,
  cascadeTable,
  gradientsTable,
  magnitudeSentence,
  modelsTable,
  summaryTable,
  sweepTable,
  verdictRulesTable,
} from './report-tables.ts';
import { budgetText, verdictHtml } from './verdict.ts';

// NOTE: long unbroken strings (hashes, commands) may wrap anywhere in prose; tables keep their layout and
// scroll inside .table-wrap, so the page itself never scrolls sideways on a phone.
const CSS = `*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI","DejaVu Sans",Arial,sans-serif;color:#1d1d1f;background:#fff;max-width:1040px;margin:0 auto;padding:16px}
h1{font-size:1.6em;line-height:1.25;margin:.2em 0 .6em}h2{font-size:1.25em;margin:1.8em 0 .5em;border-bottom:1px solid #ddd;padding-bottom:.2em}h3{font-size:1.05em;margin:1.2em 0 .3em}
p,li,figcaption{overflow-wrap:anywhere}code{font:12.5px ui-monospace,"DejaVu Sans Mono",monospace;background:#f4f4f4;padding:0 3px;border-radius:3px}
.verdict{font-size:1.05em;background:#f3f7fc;border-left:4px solid #4e79a7;padding:.7em 1em;margin:0 0 1em}
.meta,.note{font-size:13px;color:#444}nav{font-size:14px;margin:.5em 0 1em}nav a{margin-right:.8em;white-space:nowrap}
.table-wrap{overflow-x:auto;max-width:100%;margin:.4em 0;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #d6d6d6;padding:3px 7px;text-align:right;vertical-align:top}td:not(.text),td code{white-space:nowrap}th{min-width:5em}
th{background:#f3f3f3;font-weight:600}.text{text-align:left}tfoot td{background:#fafafa}
svg.chart{display:block;width:100%;max-width:640px;height:auto;margin:.6em 0}
.swatch{display:inline-block;width:10px;height:10px;margin-right:6px;border-radius:2px}
.badge{display:inline-block;padding:0 7px;border-radius:9px;font-size:12px;font-weight:600;line-height:1.6}
.pass{background:#e2f3df;color:#1d6b1d}.flag{background:#fde1df;color:#a3191b}
ul.checks{list-style:none;padding-left:0}ul.checks li{margin:.3em 0}.meanings,.provenance{font-size:13px;color:#444}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(290px,1fr));gap:14px}
figure{margin:0;border:1px solid #e2e2e2;border-radius:6px;padding:8px}figcaption{font-size:13px;margin-bottom:6px}
.shots{display:flex;gap:8px}.shot{width:88px;font-size:12px;line-height:1.35}
.shot img{display:block;width:84px;height:84px;image-rendering:pixelated;border:1px solid #ccc;margin-bottom:3px}
.wrong{color:#a3191b}`;

const section = (id: string, title: string, body: string) =>
  `<h2 id="${id}">${esc(title)}</h2>${body}`;
const table = (t: TableSpec | null) => (t ? htmlTable(t) : '');
const code = (s: string) => `<code>${esc(s)}</code>`;

/** The paragraph under the verdict: the models, images and budgets. */
function metaHtml(r: AuditReport): string {
  const models = [
    `dense ${code(r.dense.name)}`,
    `hashed ${code(r.hashed.name)}`,
    ...(r.denseAt ? [`dense AT ${code(r.denseAt.name)}`] : []),
    ...(r.hashedAt ? [`hashed AT ${code(r.hashedAt.name)}`] : []),
  ].join(', ');
  const b = r.budgets;
  return (
    `<p class="meta">Models: ${models}. ${r.n} test images (query-based attacks and the ε sweep: the first ${r.nQuery}), seed ${r.seed}. ` +
    `Budgets: L∞ ε ${budgetText(b.linf)} (PGD ${b.pgdSteps} × ${b.pgdAlpha.toFixed(4)}), L2 ε ${b.l2}${b.cwLearningRate !== undefined ? ` (C&amp;W-L2 at Adam lr ${b.cwLearningRate})` : ''}, Square ${b.squareQueries} and HopSkipJump ${b.hsjQueries} queries per image. ` +
    `Success rate = share of clean-correct images misclassified; for randomized configurations an image counts as broken when most of ${r.verdictQueries} fresh queries misclassify it.</p>`
  );
}

/** How the report was made: the commands behind it, the weights and image subset hashes, the date. */
function provenanceHtml(r: AuditReport): string {
  const items = r.parts
    ? [
        ...r.parts.map(
          (p) =>
            `part (${esc(p.configurations.join(', '))}; ${(p.seconds / 60).toFixed(1)} min): ${code(p.command)}` +
            (p.certifyCommand ? `, certificates added by ${code(p.certifyCommand)}` : ''),
        ),
        `joined by ${code(r.command)} (${(r.seconds / 60).toFixed(1)} min of computation in all)`,
      ]
    : [`${code(r.command)} (${(r.seconds / 60).toFixed(1)} min)`];
  if (r.certifyCommand) items.push(`certificates added by ${code(r.certifyCommand)}`);
  items.push(
    `hashed model weights sha256 ${code(r.weightsSha256)}, dense ${code(r.dense.weightsSha256)}`,
    `image subset: the first ${r.n} indices of a permutation seeded ${r.seed}, index list sha256 ${code(r.indexSha256)}`,
    `written ${esc(r.date)}`,
  );
  return `<ul class="provenance">${items.map((i) => `<li>${i}</li>`).join('')}</ul>`;
}

/**
 * The report as one self-contained HTML page (charts as inline SVG, images as PNG data: URIs). `examples`
 * defaults to the report's own image grid.
 */
export function auditHtml(r: AuditReport, examples: readonly ImageExample[] = r.examples): string {
  const robust = robustSweepChart(r);
  const certified = r.configurations.some((c) => c.certifiedSweep?.length);
  const sweep = robust
    ? section(
        'sweep',
        `Robust${certified ? ' and certified' : ''} accuracy against ε (first ${r.nQuery} images)`,
        robust + table(sweepTable(r)),
      )
    : (() => {
        const chart = successSweepChart(r);
        return chart
          ? section(
              'sweep',
              `Attack success against ε (PGD, CW loss; first ${r.nQuery} images)`,
              `${chart}<p class="note">From the monotone-in-ε check: 0 at ε 0, then the check's runs at 0.25, 0.5 and 1 × the budget. Reports written since the robust-accuracy sweep existed chart robust accuracy here instead.</p>`,
            )
          : '';
      })();
  const summary = summaryTable(r);
  const cascade = cascadeTable(r);
  const magnitude = magnitudeSentence(r);
  const nav = [
    ...(summary ? [['summary', 'Summary']] : []),
    ...(sweep ? [['sweep', 'ε sweep']] : []),
    ['paper', 'Paper-era attacks'],
    ['adaptive', 'Adaptive attacks'],
    ['checks', 'Masking checks'],
    ['examples', 'Examples'],
    ['details', 'Details'],
  ]
    .map(([id, label]) => `<a href="#${id}">${esc(label)}</a>`)
    .join(' ');
  const body = [
    `<h1>Robustness audit: ${esc(r.family)} (${esc(r.dataset)})</h1>`,
    verdictHtml(r),
    metaHtml(r),
    `<nav>${nav}</nav>`,
    summary ? section('summary', 'Summary: reported versus real', htmlTable(summary)) : '',
    sweep,
    section(
      'paper',
      "Paper table (the attacks of the paper's era)",
      attackChart(r, 'paper') + htmlTable(attackTable(r, 'paper')),
    ),
    section(
      'adaptive',
      'Adaptive table',
      attackChart(r, 'adaptive') + htmlTable(attackTable(r, 'adaptive')),
    ),
    cascade
      ? section(
          'cascade',
          'AutoAttack cascade: images each component attacked and broke',
          htmlTable(cascade),
        )
      : '',
    section('checks', 'Gradient-masking checks', checksHtml(r)),
    section(
      'examples',
      'Examples: clean, adversarial, perturbation',
      examples.length
        ? imageGridHtml(r, examples)
        : '<p>No adaptive attack broke an image of any configuration.</p>',
    ),
    section(
      'details',
      'Details',
      '<h3>Clean accuracy and gradients</h3>' +
        htmlTable(gradientsTable(r)) +
        (magnitude ? `<p class="note">${esc(magnitude)}</p>` : '') +
        (modelsTable(r) ? '<h3>Models</h3>' + table(modelsTable(r)) : '') +
        (verdictRulesTable(r)
          ? '<h3>Randomized configurations: verdict rules</h3>' + table(verdictRulesTable(r))
          : '') +
        '<h3>Attack details</h3>' +
        htmlTable(attackDetailsTable(r)) +
        '<h3>How this report was made</h3>' +
        provenanceHtml(r),
    ),
  ].join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>hashguard audit: ${esc(r.family)} (${esc(r.dataset)})</title><link rel="icon" href="data:,">
<style>${CSS}</style></head><body>
${body}
</body></html>
`;
}

// The audit as one self-contained HTML page: the side-by-side summary (reported versus real robust accuracy,
// cost, size) and AutoAttack cascade as tables, the Markdown tables' numbers as inline SVG charts (success per
// attack and configuration; robust accuracy against ε), plus a grid of clean / adversarial / perturbation images.
import type { AuditReport, ImageExample } from './report-types.ts';
import {
  cascades,
  certifiedCell,
  cpuMinutes,
  flagCount,
  robustnessGap,
  SUMMARY_NOTE,
  SWEEP_NOTE,
} from './report-markdown.ts';
import { TRAINING_COST_METHOD } from './training-cost.ts';

const esc = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
// One colour per configuration (eight with the adversarially trained ones).
const COLORS = [
  '#4c78a8',
  '#f58518',
  '#54a24b',
  '#e45756',
  '#72b7b2',
  '#b279a2',
  '#9d755d',
  '#eeca3b',
];
const pct = (v: number | null | undefined) =>
  v === null || v === undefined || Number.isNaN(v) ? '—' : `${(100 * v).toFixed(1)}%`;

/** The summary: reported versus real robust accuracy with the gap, training cost, stored weights and bytes. */
function summaryTable(r: AuditReport): string {
  const cfgs = r.configurations;
  if (!cfgs.some((c) => c.robustAccuracy !== undefined)) return '';
  const head = [
    'configuration',
    'clean accuracy',
    'paper-era average success',
    'reported robust accuracy (paper-era worst case)',
    'robust accuracy (adaptive worst case)',
    'certified accuracy',
    'gap (reported − real)',
    'training CPU-minutes',
    'stored weights',
    'weights.safetensors bytes',
    'masking flags',
  ];
  const rows = cfgs.map((c) => {
    const gap = robustnessGap(c);
    const cells = [
      c.name,
      pct(c.cleanAccuracy),
      pct(c.paperAverage),
      pct(c.reportedRobustAccuracy),
      `<b>${pct(c.robustAccuracy)}</b>`,
      certifiedCell(c),
      gap === null ? '—' : `${gap >= 0 ? '+' : ''}${(100 * gap).toFixed(1)} pp`,
      cpuMinutes(c),
      String(c.storedParameters ?? '—'),
      String(c.weightsBytes ?? '—'),
      flagCount(c),
    ];
    return `<tr>${cells.map((v, i) => (i === 4 ? `<td>${v}</td>` : `<td>${esc(v)}</td>`)).join('')}</tr>`;
  });
  return (
    `<h2>Summary: reported versus real</h2><table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>` +
    `<p class="note">${esc(SUMMARY_NOTE + TRAINING_COST_METHOD)}</p>`
  );
}

/** The AutoAttack cascade's per-component counts (images attacked and broken), one row per cascade run. */
function cascadeTable(r: AuditReport): string {
  const rows = r.configurations.flatMap((c) =>
    cascades(c).map(
      (a) =>
        `<tr><td>${esc(c.name)}</td><td>${esc(a.id)}</td><td>${a.cascade.components.map((k) => `${esc(k.name)} ${k.broken}/${k.attacked}`).join(', ')}</td><td>${pct(a.cascade.robustAccuracy)}</td></tr>`,
    ),
  );
  if (!rows.length) return '';
  return `<h2>AutoAttack cascade: images each component attacked and broke</h2><table><thead><tr><th>configuration</th><th>attack</th><th>components (broken / attacked)</th><th>robust accuracy of the row</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** Robust accuracy against ε (robustSweep), one line per configuration, with labelled and ticked axes. */
function robustSweepChart(r: AuditReport): string {
  const cfgs = r.configurations.map((c, k) => ({ c, k })).filter(({ c }) => c.robustSweep?.length);
  if (!cfgs.length) return '';
  const w = 420,
    h = 220,
    left = 56,
    top = 16,
    bottom = 46,
    right = 170;
  const maxEps = Math.max(1e-9, ...cfgs.flatMap(({ c }) => c.robustSweep!.map((p) => p.eps)));
  const X = (eps: number) => left + (eps / maxEps) * w,
    Y = (acc: number) => top + h - acc * h;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${left + w + right}" height="${top + h + bottom}" role="img" aria-label="robust accuracy against epsilon">`,
    `<line x1="${left}" y1="${top + h}" x2="${left + w}" y2="${top + h}" stroke="#333"/><line x1="${left}" y1="${top}" x2="${left}" y2="${top + h}" stroke="#333"/>`,
  ];
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(
      `<line x1="${left - 4}" y1="${Y(t)}" x2="${left + w}" y2="${Y(t)}" stroke="#ddd"/><text x="${left - 7}" y="${Y(t) + 4}" font-size="10" text-anchor="end">${100 * t}%</text>`,
    );
  }
  for (const p of cfgs[0].c.robustSweep!) {
    parts.push(
      `<line x1="${X(p.eps).toFixed(1)}" y1="${top + h}" x2="${X(p.eps).toFixed(1)}" y2="${top + h + 4}" stroke="#333"/><text x="${X(p.eps).toFixed(1)}" y="${top + h + 16}" font-size="10" text-anchor="middle">${p.eps.toFixed(3)}</text>`,
    );
  }
  parts.push(
    `<text x="${left + w / 2}" y="${top + h + 36}" font-size="11" text-anchor="middle">ε (L∞; budget ${r.budgets.linf.toFixed(4)})</text>`,
    `<text x="14" y="${top + h / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 14 ${top + h / 2})">robust (solid) and certified (dashed) accuracy</text>`,
  );
  cfgs.forEach(({ c, k }, i) => {
    const color = COLORS[k % COLORS.length];
    const pts = c
      .robustSweep!.map((p) => `${X(p.eps).toFixed(1)},${Y(p.robustAccuracy).toFixed(1)}`)
      .join(' ');
    parts.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts}"><title>${esc(c.name)}</title></polyline>`,
    );
    for (const p of c.robustSweep!)
      parts.push(
        `<circle cx="${X(p.eps).toFixed(1)}" cy="${Y(p.robustAccuracy).toFixed(1)}" r="2.5" fill="${color}"><title>${esc(c.name)}, ε ${p.eps.toFixed(4)}: ${pct(p.robustAccuracy)}</title></circle>`,
      );
    // The certified side of the bracket, dashed in the same colour: it never rises above the solid line.
    if (c.certifiedSweep?.length) {
      const cpts = c.certifiedSweep
        .map((p) => `${X(p.eps).toFixed(1)},${Y(p.certifiedAccuracy).toFixed(1)}`)
        .join(' ');
      parts.push(
        `<polyline fill="none" stroke="${color}" stroke-width="1.5" stroke-dasharray="5 3" points="${cpts}"><title>${esc(c.name)}, certified (${esc(c.certifiedMethod ?? '')})</title></polyline>`,
      );
      for (const p of c.certifiedSweep)
        parts.push(
          `<rect x="${(X(p.eps) - 2.5).toFixed(1)}" y="${(Y(p.certifiedAccuracy) - 2.5).toFixed(1)}" width="5" height="5" fill="white" stroke="${color}"><title>${esc(c.name)}, ε ${p.eps.toFixed(4)}: certified ${pct(p.certifiedAccuracy)}</title></rect>`,
        );
    }
    parts.push(
      `<rect x="${left + w + 14}" y="${top + i * 16}" width="10" height="10" fill="${color}"/><text x="${left + w + 28}" y="${top + i * 16 + 9}" font-size="10">${esc(c.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Grouped horizontal bars: one group per attack, one bar per configuration. */
function barChart(r: AuditReport, table: 'paper' | 'adaptive'): string {
  const cfgs = r.configurations;
  const ids = [
    ...new Set(cfgs.flatMap((c) => c.attacks.filter((a) => a.table === table).map((a) => a.id))),
  ];
  const bar = 10,
    gap = 8,
    left = 130,
    width = 360;
  // The legend takes a row per three configurations (three rows with the AT configurations).
  const legendRows = Math.ceil(cfgs.length / 3);
  const h = ids.length * (cfgs.length * bar + gap) + 28 + 12 * legendRows;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 60}" height="${h}" role="img" aria-label="${table} attacks">`,
  ];
  ids.forEach((id, g) => {
    const y0 = 10 + g * (cfgs.length * bar + gap);
    parts.push(
      `<text x="${left - 6}" y="${y0 + (cfgs.length * bar) / 2 + 4}" text-anchor="end" font-size="11">${esc(id)}</text>`,
    );
    cfgs.forEach((c, k) => {
      const v = c.attacks.find((a) => a.id === id)?.successRate;
      if (v === undefined) return;
      parts.push(
        `<rect x="${left}" y="${y0 + k * bar}" width="${(v * width).toFixed(1)}" height="${bar - 1}" fill="${COLORS[k % COLORS.length]}"><title>${esc(c.name)}: ${(100 * v).toFixed(1)}%</title></rect>`,
      );
    });
  });
  const yl = h - 12 * legendRows;
  cfgs.forEach((c, k) =>
    parts.push(
      `<rect x="${left + (k % 3) * 130}" y="${yl + Math.floor(k / 3) * 12 - 9}" width="9" height="9" fill="${COLORS[k % COLORS.length]}"/><text x="${left + (k % 3) * 130 + 13}" y="${yl + Math.floor(k / 3) * 12}" font-size="10">${esc(c.name)}</text>`,
    ),
  );
  parts.push('</svg>');
  return parts.join('');
}

/** Success of PGD (CW loss) against ε, one line per configuration. */
function sweepChart(r: AuditReport): string {
  const w = 360,
    h = 200,
    pad = 36;
  const cfgs = r.configurations;
  const maxEps = Math.max(
    ...cfgs.flatMap((c) => c.checks.find((k) => k.sweep)?.sweep?.map((s) => s.eps) ?? [1e-9]),
  );
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w + 2 * pad}" height="${h + 2 * pad}" role="img" aria-label="epsilon sweep">`,
    `<line x1="${pad}" y1="${pad + h}" x2="${pad + w}" y2="${pad + h}" stroke="#333"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${pad + h}" stroke="#333"/>`,
    `<text x="${pad + w / 2}" y="${pad + h + 28}" font-size="11" text-anchor="middle">ε (L∞)</text><text x="10" y="${pad - 8}" font-size="11">success</text>`,
  ];
  cfgs.forEach((c, k) => {
    const sw = c.checks.find((q) => q.sweep)?.sweep;
    if (!sw) return;
    const pts = [{ eps: 0, successRate: 0 }, ...sw]
      .map(
        (s) =>
          `${(pad + (s.eps / maxEps) * w).toFixed(1)},${(pad + h - s.successRate * h).toFixed(1)}`,
      )
      .join(' ');
    parts.push(
      `<polyline fill="none" stroke="${COLORS[k % COLORS.length]}" stroke-width="2" points="${pts}"><title>${esc(c.name)}</title></polyline>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

/** A grayscale (or RGB) image as SVG rects; values in [0, 1] (perturbations mapped from [−m, m]). */
export function imageSvg(
  data: ArrayLike<number>,
  shape: readonly number[],
  scale = 3,
  signed = false,
  maxAbs = 1,
): string {
  const [c, h, w] = shape;
  const px: string[] = [];
  for (let yy = 0; yy < h; yy++)
    for (let xx = 0; xx < w; xx++) {
      const ch = (k: number) => {
        const v = data[k * h * w + yy * w + xx];
        const u = signed ? 0.5 + v / (2 * maxAbs || 1) : v;
        return Math.round(255 * Math.min(1, Math.max(0, u)));
      };
      const [r, g, b] = c >= 3 ? [ch(0), ch(1), ch(2)] : [ch(0), ch(0), ch(0)];
      px.push(
        `<rect x="${xx * scale}" y="${yy * scale}" width="${scale}" height="${scale}" fill="rgb(${r},${g},${b})"/>`,
      );
    }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w * scale}" height="${h * scale}" shape-rendering="crispEdges">${px.join('')}</svg>`;
}

export function auditHtml(
  r: AuditReport,
  markdownTables: string,
  examples: ImageExample[],
): string {
  const grid = examples
    .map((e) => {
      const delta = e.adversarial.map((v, i) => v - e.clean[i]);
      const m = Math.max(1e-6, ...delta.map(Math.abs));
      return (
        `<figure><div>${imageSvg(e.clean, e.shape)}${imageSvg(e.adversarial, e.shape)}${imageSvg(delta, e.shape, 3, true, m)}</div>` +
        `<figcaption>${esc(e.config)} · ${esc(e.attack)}: label ${e.label} → ${e.prediction} (‖δ‖∞ ${m.toFixed(3)})</figcaption></figure>`
      );
    })
    .join('\n');
  const md = esc(markdownTables);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>hashguard audit: ${esc(r.family)}</title>
<style>body{font:14px system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td:first-child,th{text-align:left}.note{font-size:12px;color:#444}figure{display:inline-block;margin:6px}figure svg{margin-right:4px;border:1px solid #ccc}figcaption{font-size:11px}pre{white-space:pre-wrap;font-size:12px;background:#f6f6f6;padding:1em}</style></head><body>
<h1>Robustness audit: ${esc(r.family)} (${esc(r.dataset)})</h1>
<p>Hashed model <code>${esc(r.hashed.name)}</code> (weights sha256 <code>${esc(r.weightsSha256)}</code>), dense <code>${esc(r.dense.name)}</code>${r.denseAt ? `, dense AT <code>${esc(r.denseAt.name)}</code>` : ''}${r.hashedAt ? `, hashed AT <code>${esc(r.hashedAt.name)}</code>` : ''}; ${r.n} images (query-based attacks and the ε sweep: the first ${r.nQuery}), seed ${r.seed}.</p>
${summaryTable(r)}
<h2>Paper-era attacks: success per configuration</h2>${barChart(r, 'paper')}
<h2>Adaptive attacks: success per configuration</h2>${barChart(r, 'adaptive')}
${
  r.configurations.some((c) => c.robustSweep?.length)
    ? `<h2>Robust${r.configurations.some((c) => c.certifiedSweep) ? ' and certified' : ''} accuracy against ε (first ${r.nQuery} images)</h2>${robustSweepChart(r)}<p class="note">${esc(SWEEP_NOTE)}</p>`
    : `<h2>ε sweep (PGD, CW loss)</h2>${sweepChart(r)}`
}
${cascadeTable(r)}
<h2>Examples: clean / adversarial / perturbation</h2>${grid}
<h2>Tables and checks</h2><pre>${md}</pre>
</body></html>
`;
}

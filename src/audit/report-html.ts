// The audit as one self-contained HTML page: the Markdown tables' numbers as inline SVG charts (success per
// attack and configuration; the ε sweep), plus a grid of clean / adversarial / perturbation images.
import type { AuditReport } from './report-types.ts';

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const COLORS = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2'];

/** Grouped horizontal bars: one group per attack, one bar per configuration. */
function barChart(r: AuditReport, table: 'paper' | 'adaptive'): string {
  const cfgs = r.configurations;
  const ids = [...new Set(cfgs.flatMap((c) => c.attacks.filter((a) => a.table === table).map((a) => a.id)))];
  const bar = 10, gap = 8, left = 130, width = 360;
  const h = ids.length * (cfgs.length * bar + gap) + 40;
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 60}" height="${h}" role="img" aria-label="${table} attacks">`];
  ids.forEach((id, g) => {
    const y0 = 10 + g * (cfgs.length * bar + gap);
    parts.push(`<text x="${left - 6}" y="${y0 + (cfgs.length * bar) / 2 + 4}" text-anchor="end" font-size="11">${esc(id)}</text>`);
    cfgs.forEach((c, k) => {
      const v = c.attacks.find((a) => a.id === id)?.successRate;
      if (v === undefined) return;
      parts.push(`<rect x="${left}" y="${y0 + k * bar}" width="${(v * width).toFixed(1)}" height="${bar - 1}" fill="${COLORS[k % COLORS.length]}"><title>${esc(c.name)}: ${(100 * v).toFixed(1)}%</title></rect>`);
    });
  });
  const yl = h - 20;
  cfgs.forEach((c, k) => parts.push(`<rect x="${left + (k % 3) * 130}" y="${yl + Math.floor(k / 3) * 12 - 9}" width="9" height="9" fill="${COLORS[k % COLORS.length]}"/><text x="${left + (k % 3) * 130 + 13}" y="${yl + Math.floor(k / 3) * 12}" font-size="10">${esc(c.name)}</text>`));
  parts.push('</svg>');
  return parts.join('');
}

/** Success of PGD (CW loss) against ε, one line per configuration. */
function sweepChart(r: AuditReport): string {
  const w = 360, h = 200, pad = 36;
  const cfgs = r.configurations;
  const maxEps = Math.max(...cfgs.flatMap((c) => c.checks.find((k) => k.sweep)?.sweep?.map((s) => s.eps) ?? [1e-9]));
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${w + 2 * pad}" height="${h + 2 * pad}" role="img" aria-label="epsilon sweep">`,
    `<line x1="${pad}" y1="${pad + h}" x2="${pad + w}" y2="${pad + h}" stroke="#333"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${pad + h}" stroke="#333"/>`,
    `<text x="${pad + w / 2}" y="${pad + h + 28}" font-size="11" text-anchor="middle">ε (L∞)</text><text x="10" y="${pad - 8}" font-size="11">success</text>`];
  cfgs.forEach((c, k) => {
    const sw = c.checks.find((q) => q.sweep)?.sweep;
    if (!sw) return;
    const pts = [{ eps: 0, successRate: 0 }, ...sw].map((s) => `${(pad + (s.eps / maxEps) * w).toFixed(1)},${(pad + h - s.successRate * h).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${COLORS[k % COLORS.length]}" stroke-width="2" points="${pts}"><title>${esc(c.name)}</title></polyline>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** A grayscale (or RGB) image as SVG rects; values in [0, 1] (perturbations mapped from [−m, m]). */
export function imageSvg(data: ArrayLike<number>, shape: readonly number[], scale = 3, signed = false, maxAbs = 1): string {
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
      px.push(`<rect x="${xx * scale}" y="${yy * scale}" width="${scale}" height="${scale}" fill="rgb(${r},${g},${b})"/>`);
    }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w * scale}" height="${h * scale}" shape-rendering="crispEdges">${px.join('')}</svg>`;
}

export interface ImageExample { config: string; attack: string; clean: number[]; adversarial: number[]; shape: number[]; label: number; prediction: number }

export function auditHtml(r: AuditReport, markdownTables: string, examples: ImageExample[]): string {
  const grid = examples.map((e) => {
    const delta = e.adversarial.map((v, i) => v - e.clean[i]);
    const m = Math.max(1e-6, ...delta.map(Math.abs));
    return `<figure><div>${imageSvg(e.clean, e.shape)}${imageSvg(e.adversarial, e.shape)}${imageSvg(delta, e.shape, 3, true, m)}</div>` +
      `<figcaption>${esc(e.config)} · ${esc(e.attack)}: label ${e.label} → ${e.prediction} (‖δ‖∞ ${m.toFixed(3)})</figcaption></figure>`;
  }).join('\n');
  const md = esc(markdownTables);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>hashguard audit: ${esc(r.family)}</title>
<style>body{font:14px system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}figure{display:inline-block;margin:6px}figure svg{margin-right:4px;border:1px solid #ccc}figcaption{font-size:11px}pre{white-space:pre-wrap;font-size:12px;background:#f6f6f6;padding:1em}</style></head><body>
<h1>Robustness audit: ${esc(r.family)} (${esc(r.dataset)})</h1>
<p>Hashed model <code>${esc(r.hashed.name)}</code> (weights sha256 <code>${esc(r.weightsSha256)}</code>), dense <code>${esc(r.dense.name)}</code>; ${r.n} images, seed ${r.seed}.</p>
<h2>Paper-era attacks: success per configuration</h2>${barChart(r, 'paper')}
<h2>Adaptive attacks: success per configuration</h2>${barChart(r, 'adaptive')}
<h2>ε sweep (PGD, CW loss)</h2>${sweepChart(r)}
<h2>Examples: clean / adversarial / perturbation</h2>${grid}
<h2>Tables and checks</h2><pre>${md}</pre>
</body></html>
`;
}

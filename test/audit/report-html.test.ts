// The HTML report as a reader gets it, checked without a browser on every committed report: real tables with
// the Markdown's header cells, charts with axis lines, tick labels, axis titles and value labels, the budget ε
// marked, a verdict naming configurations and ε, images as PNG data: URIs, nothing fetched from elsewhere, and
// the committed pages up to date with the renderer (scripts/render-reports.ts rewrites them).
import { describe, expect, test } from 'bun:test';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  auditHtml,
  auditMarkdown,
  headlineChart,
  type AuditReport,
} from '../../src/audit/index.ts';
import { encodePng, pngDataUri } from '../../src/audit/image-png.ts';
import { barChart } from '../../src/audit/svg-bar-chart.ts';
import { lineChart } from '../../src/audit/svg-line-chart.ts';
import { configurationColor, textWidth } from '../../src/audit/svg-parts.ts';
import { verdictHtml } from '../../src/audit/verdict.ts';
import { decodePng } from '../../src/data/index.ts';

const ROOT = join(import.meta.dir, '../..');
const DOCS = join(ROOT, 'docs/audit');

function reportFiles(d: string): string[] {
  return readdirSync(d)
    .sort()
    .flatMap((f) => {
      const p = join(d, f);
      if (statSync(p).isDirectory()) return reportFiles(p);
      return f.endsWith('.json') && existsSync(p.replace(/\.json$/, '.html')) ? [p] : [];
    });
}
const REPORTS = reportFiles(DOCS).map((file) => ({
  name: relative(DOCS, file).replace(/\.json$/, ''),
  file,
  report: JSON.parse(readFileSync(file, 'utf8')) as AuditReport,
}));

const charts = (html: string) => html.match(/<svg[^>]*class="chart"[\s\S]*?<\/svg>/g) ?? [];
const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;
const textOf = (s: string) => s.replace(/<[^>]+>/g, '').trim();
/** Each table's header cells, as text. */
const htmlHeads = (html: string) =>
  (html.match(/<thead>[\s\S]*?<\/thead>/g) ?? []).map((h) =>
    (h.match(/<th[^>]*>[\s\S]*?<\/th>/g) ?? []).map(textOf).join(' | '),
  );
const mdHeads = (md: string) =>
  md
    .split('\n')
    .flatMap((line, i, all) =>
      /^\|---/.test(all[i + 1] ?? '') && line.startsWith('|') ? [line] : [],
    )
    .map((l) =>
      l
        .slice(1, -1)
        .split('|')
        .map((c) => c.trim())
        .join(' | '),
    );

test('the committed reports are found', () => {
  expect(REPORTS.map((r) => r.name)).toContain('mnist-cnn');
  expect(REPORTS.length).toBeGreaterThanOrEqual(6);
});

describe.each(REPORTS)('$name', ({ name, file, report }) => {
  const html = auditHtml(report);

  test('the committed HTML is what the renderer writes (bun scripts/render-reports.ts)', () => {
    expect(readFileSync(file.replace(/\.json$/, '.html'), 'utf8') === html).toBe(true);
  });

  test('self-contained and under 2 MB: no script, no external URL, images as data: URIs', () => {
    expect(html.length).toBeLessThan(2 * 1024 * 1024);
    expect(html).not.toMatch(/<script|<pre|@import|url\(/i);
    expect(html).not.toMatch(/(src|href)="(?!data:|#)/);
    expect(count(html, /<img src="data:image\/png;base64,/g)).toBe(3 * report.examples.length);
    expect(html).toContain('<meta name="viewport"');
  });

  test('every Markdown table is an HTML <table> with the same header cells', () => {
    const heads = htmlHeads(html);
    const md = mdHeads(auditMarkdown(report));
    expect(md.length).toBeGreaterThan(3);
    for (const h of md) expect(heads).toContain(h);
    expect(count(html, /<div class="table-wrap"><table>/g)).toBe(count(html, /<table>/g));
  });

  test('every chart has axis lines, tick labels and axis titles; bars carry value labels', () => {
    const svgs = charts(html);
    expect(svgs.length).toBeGreaterThanOrEqual(2);
    for (const svg of svgs) {
      expect(svg).toMatch(/viewBox="0 0 [\d.]+ [\d.]+"/);
      expect(count(svg, /<line class="axis"/g)).toBe(2);
      expect(count(svg, /<text class="tick"/g)).toBeGreaterThanOrEqual(4);
      const titles = svg.match(/<text class="axis-title"[^>]*>[^<]+<\/text>/g) ?? [];
      expect(titles.length).toBe(2);
      expect(count(svg, /<text class="legend"/g)).toBeGreaterThanOrEqual(1);
      if (svg.includes('data-chart="bar"'))
        expect(count(svg, /<text class="value"/g)).toBe(count(svg, /<rect [^>]*height="12"/g));
      if (svg.includes('data-chart="line"')) expect(svg).toContain('class="mark-label"');
    }
    const bars = svgs.filter((s) => s.includes('data-chart="bar"'));
    expect(bars.length).toBe(2);
    // One bar per attack row and configuration that ran it.
    const adaptive = report.configurations.flatMap((c) =>
      c.attacks.filter((a) => a.table === 'adaptive'),
    );
    expect(count(bars[1], /<text class="value"/g)).toBe(adaptive.length);
  });

  test('one colour per configuration across the page', () => {
    for (const c of report.configurations) {
      const colour = configurationColor(c.name);
      // Its bars in both charts and its swatches in the tables use that colour.
      expect(html).toContain(`<title>${c.name.replace(/&/g, '&amp;')}, `);
      expect(count(html, new RegExp(`fill="${colour}"`, 'g'))).toBeGreaterThan(0);
    }
    const colours = report.configurations.map((c) => configurationColor(c.name));
    expect(new Set(colours).size).toBe(colours.length);
  });

  test('the verdict names configurations, the budget ε and what holds or falls', () => {
    const v = verdictHtml(report);
    expect(html).toContain(v);
    expect(v).toMatch(/At the L∞ budget ε = [^ ]+/);
    expect(v).toContain(String(Number(report.budgets.linf.toFixed(4))));
    for (const c of report.configurations) expect(v).toContain(`<strong>${c.name}</strong>`);
    expect(v).toMatch(/keeps? robust accuracy above|falls? (to 0%|below chance)/);
  });

  test('masking checks are pass / flag badges with their evidence', () => {
    const flags = report.configurations.flatMap((c) => c.checks.filter((k) => !k.pass));
    const passes = report.configurations.flatMap((c) => c.checks.filter((k) => k.pass));
    // Each check twice: in the matrix and in its configuration's list.
    expect(count(html, /<span class="badge flag">flag<\/span>/g)).toBe(2 * flags.length);
    expect(count(html, /<span class="badge pass">pass<\/span>/g)).toBe(2 * passes.length);
    const evidence = report.configurations[0].checks[0].evidence;
    expect(html).toContain(
      evidence.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'),
    );
    expect(name).toBeTruthy();
  });
});

test('the image grid labels true and predicted classes with class names', () => {
  const fashion = REPORTS.find((r) => r.report.dataset === 'fashion-mnist')!.report;
  const html = auditHtml(fashion);
  const e = fashion.examples[0];
  expect(html).toContain(`clean<br>true <b>${e.label} `);
  expect(html).toContain(`predicted <b class="wrong">${e.prediction} `);
});

test('the CIFAR-10 verdict writes its budget as 8/255', () => {
  const cifar = REPORTS.find((r) => r.name === 'cifar10-cnn')!.report;
  expect(verdictHtml(cifar)).toContain('ε = 8/255 ≈ 0.0314');
});

test('the mnist-cnn verdict says which configurations hold and which fall to 0 at ε 0.3', () => {
  const v = verdictHtml(REPORTS.find((r) => r.name === 'mnist-cnn')!.report);
  expect(v).toContain('ε = 0.3');
  expect(v).toMatch(
    /<strong>dense AT<\/strong> \(89\.2%\), .* keep robust accuracy above chance \(10%\)/,
  );
  expect(v).toMatch(/<strong>hashed\+GI random<\/strong> fall to 0%/);
  expect(v).toContain('No configuration is certified at the budget');
});

test('a PNG data: URI decodes back to the image (greyscale and RGB)', () => {
  const grey = Array.from({ length: 4 * 3 }, (_, i) => i / 11);
  const g = decodePng(encodePng(grey, [1, 4, 3]));
  expect([g.width, g.height]).toEqual([3, 4]);
  expect(Array.from(g.rgba.filter((_, i) => i % 4 === 0))).toEqual(
    grey.map((v) => Math.round(255 * v)),
  );
  const rgb = Array.from({ length: 3 * 2 * 2 }, (_, i) => (i % 5) / 4);
  const c = decodePng(encodePng(rgb, [3, 2, 2]));
  // Pixel (0, 0): R from the first plane, G from the second, B from the third.
  expect(Array.from(c.rgba.slice(0, 3))).toEqual([0, 4, 8].map((k) => Math.round(255 * rgb[k])));
  expect(pngDataUri(grey, [1, 4, 3])).toMatch(/^data:image\/png;base64,iVBORw0KGgo/);
});

test('a bar chart: axes, ticks 0–100%, titles, one value label per bar, a legend; missing bars take no row', () => {
  const svg = barChart({
    label: 'demo',
    groups: [
      {
        label: 'fgsm',
        bars: [
          { series: 'a', value: 0.5 },
          { series: 'b', value: 1 },
        ],
      },
      {
        label: 'eot',
        bars: [
          { series: 'a', value: null },
          { series: 'b', value: 0.25 },
        ],
      },
    ],
    series: [
      { name: 'a', color: '#111111' },
      { name: 'b', color: '#222222' },
    ],
    xTitle: 'success rate',
    yTitle: 'attack',
  });
  expect(count(svg, /<line class="axis"/g)).toBe(2);
  for (const t of ['0%', '25%', '50%', '75%', '100%']) expect(svg).toContain(`>${t}</text>`);
  expect(svg).toContain('>success rate</text>');
  expect(svg).toContain('>attack</text>');
  expect((svg.match(/<text class="value"[^>]*>[^<]+<\/text>/g) ?? []).map(textOf)).toEqual([
    '50.0%',
    '100.0%',
    '25.0%',
  ]);
  expect(count(svg, /<text class="legend"/g)).toBe(2);
});

test('a line chart: axes, ticks at the given x, titles, the marked budget, a dashed series', () => {
  const svg = lineChart({
    label: 'demo',
    series: [
      {
        name: 'a',
        color: '#111111',
        points: [
          { x: 0, y: 1 },
          { x: 0.1, y: 0.5 },
          { x: 0.2, y: 0 },
        ],
      },
      {
        name: 'a cert',
        color: '#111111',
        points: [
          { x: 0, y: 1 },
          { x: 0.2, y: 0 },
        ],
        dashed: true,
      },
    ],
    xTitle: 'ε',
    yTitle: 'accuracy',
    xTicks: [0, 0.1, 0.2],
    mark: { x: 0.1, label: 'budget ε 0.1' },
  });
  expect(count(svg, /<line class="axis"/g)).toBe(2);
  for (const t of ['0', '0.1', '0.2', '0%', '50%', '100%']) expect(svg).toContain(`>${t}</text>`);
  expect(svg).toContain('>budget ε 0.1</text>');
  expect(svg).toContain('>accuracy</text>');
  expect(count(svg, /<polyline[^>]*stroke-dasharray/g)).toBe(1);
});

test('the text-width estimate errs wide (labels laid out with it never touch)', () => {
  // DejaVu Sans, the widest common fallback, renders "hashed AT+GI random" at 12 px about 128 px wide.
  expect(textWidth('hashed AT+GI random', 12)).toBeGreaterThan(128);
  expect(textWidth('100.0%', 11)).toBeGreaterThan(40);
});

test('the README headline chart is current (bun scripts/headline-chart.ts) and charts clean and robust accuracy', () => {
  const top = REPORTS.filter((r) => !r.name.includes('/')).map((r) => r.report);
  const svg = headlineChart(top);
  expect(readFileSync(join(ROOT, 'docs/img/headline-robustness.svg'), 'utf8') === svg).toBe(true);
  expect(svg).toContain('>MNIST: mnist-cnn</text>');
  // Per panel: two axes, two axis titles, the budget; one line per configuration with a sweep.
  const panels = top.filter((r) => r.configurations.some((c) => c.robustSweep));
  expect(count(svg, /<line class="axis"/g)).toBe(2 * panels.length);
  expect(count(svg, /<text class="axis-title"/g)).toBe(2 * panels.length);
  expect(count(svg, /<text class="mark-label"[^>]*>budget ε 0\.3</g)).toBe(1);
  const lines = panels.flatMap((r) => r.configurations.filter((c) => c.robustSweep));
  expect(count(svg, /<polyline/g)).toBe(lines.length);
  expect(svg).not.toMatch(/(src|href)="/);
});

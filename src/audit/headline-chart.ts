// The README's headline chart: clean (ε 0) and robust accuracy per configuration against ε, one panel per audit
// report that has the robust-accuracy sweep, side by side in one standalone SVG with a shared legend.
import type { AuditReport } from './report-types.ts';
import { epsText, esc } from './report-format.ts';
import { lineChartBody } from './svg-line-chart.ts';
import { configurationColor, configurationOrder, legend, r1, svgOpen } from './svg-parts.ts';
import { budgetText } from './verdict.ts';

const DATASET_TITLES: Record<string, string> = {
  mnist: 'MNIST',
  'fashion-mnist': 'Fashion-MNIST',
  cifar10: 'CIFAR-10',
  'cifar10-jpeg': 'CIFAR-10',
};
const PANEL_WIDTH = 480;
const TITLE = 'Clean (ε 0) and robust accuracy under the worst-case adaptive attack, against L∞ ε';

/** Reports with a robust-accuracy sweep, in dataset order (MNIST, Fashion-MNIST, CIFAR-10, others). */
export function headlineReports(reports: readonly AuditReport[]): AuditReport[] {
  const rank = (r: AuditReport) => {
    const i = Object.keys(DATASET_TITLES).indexOf(r.dataset);
    return i < 0 ? 99 : i;
  };
  return reports
    .filter((r) => r.configurations.some((c) => c.robustSweep?.length))
    .sort((a, b) => rank(a) - rank(b) || a.family.localeCompare(b.family));
}

/** The headline chart as a standalone SVG document (white background, its own font list). */
export function headlineChart(all: readonly AuditReport[]): string {
  const reports = headlineReports(all);
  if (!reports.length) throw new Error('headline chart: no report has a robust-accuracy sweep');
  const top = 34;
  const panels = reports.map((r, i) => {
    const cfgs = r.configurations.filter((c) => c.robustSweep?.length);
    const body = lineChartBody({
      label: r.family,
      series: cfgs.map((c) => ({
        name: c.name,
        color: configurationColor(c.name),
        points: c.robustSweep!.map((p) => ({ x: p.eps, y: p.robustAccuracy })),
      })),
      xTitle: `ε (${DATASET_TITLES[r.dataset] ?? r.dataset}, first ${r.nQuery} test images)`,
      yTitle: 'accuracy',
      xTicks: cfgs[0].robustSweep!.map((p) => p.eps),
      xFormat: epsText,
      mark: { x: r.budgets.linf, label: `budget ε ${budgetText(r.budgets.linf)}` },
      legend: [],
      width: PANEL_WIDTH,
      embed: { x: i * PANEL_WIDTH, y: top + 22 },
    });
    const heading = `<text x="${r1(i * PANEL_WIDTH + 8)}" y="${top + 12}" font-size="13" font-weight="600">${esc(`${DATASET_TITLES[r.dataset] ?? r.dataset}: ${r.family}`)}</text>`;
    return { svg: heading + body.svg, height: top + 22 + body.height };
  });
  const width = PANEL_WIDTH * reports.length;
  const names = [...new Set(reports.flatMap((r) => r.configurations.map((c) => c.name)))].sort(
    configurationOrder,
  );
  const panelsHeight = Math.max(...panels.map((p) => p.height));
  const leg = legend(
    names.map((n) => ({ label: n, color: configurationColor(n), line: 'solid' as const })),
    8,
    panelsHeight + 4,
    width - 16,
  );
  const height = panelsHeight + 4 + leg.height + 6;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    svgOpen('headline', TITLE, width, height) +
    `<rect width="100%" height="100%" fill="#fff"/>` +
    `<text x="8" y="20" font-size="15" font-weight="600">${esc(TITLE)}</text>` +
    panels.map((p) => p.svg).join('') +
    leg.svg +
    '</svg>\n'
  );
}

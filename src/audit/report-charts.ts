// The report's charts as chart specs: success per attack and configuration (paper-era and adaptive), robust and
// certified accuracy against ε, and, for reports written before the robust sweep, attack success against ε.
import type { AuditReport } from './report-types.ts';
import { epsText } from './report-format.ts';
import { attackIds } from './report-tables.ts';
import { barChart } from './svg-bar-chart.ts';
import { lineChart, type LineSeries } from './svg-line-chart.ts';
import { configurationColor, type LegendEntry } from './svg-parts.ts';
import { budgetText } from './verdict.ts';

const series = (r: AuditReport) =>
  r.configurations.map((c) => ({ name: c.name, color: configurationColor(c.name) }));
const budgetMark = (r: AuditReport) => ({
  x: r.budgets.linf,
  label: `budget ε ${budgetText(r.budgets.linf)}`,
});

/** Success rate per attack (one group each) and configuration (one bar each, in its colour). */
export function attackChart(r: AuditReport, table: 'paper' | 'adaptive'): string {
  return barChart({
    label: `${table === 'paper' ? 'Paper-era' : 'Adaptive'} attacks: success rate per attack and configuration`,
    groups: attackIds(r, table).map((id) => ({
      label: id,
      bars: r.configurations.map((c) => ({
        series: c.name,
        value: c.attacks.find((a) => a.id === id)?.successRate ?? null,
      })),
    })),
    series: series(r),
    xTitle: 'success rate (clean-correct images misclassified)',
    yTitle: 'attack',
  });
}

/** Robust accuracy (solid) and certified accuracy (dashed) against ε, the budget marked. */
export function robustSweepChart(r: AuditReport): string | null {
  const cfgs = r.configurations.filter((c) => c.robustSweep?.length);
  if (!cfgs.length) return null;
  const certified = cfgs.some((c) => c.certifiedSweep?.length);
  const lines: LineSeries[] = cfgs.flatMap((c) => [
    {
      name: `${c.name}, robust`,
      color: configurationColor(c.name),
      points: c.robustSweep!.map((p) => ({ x: p.eps, y: p.robustAccuracy })),
    },
    ...(c.certifiedSweep?.length
      ? [
          {
            name: `${c.name}, certified${c.certifiedMethod ? ` (${c.certifiedMethod})` : ''}`,
            color: configurationColor(c.name),
            points: c.certifiedSweep.map((p) => ({ x: p.eps, y: p.certifiedAccuracy })),
            dashed: true,
          },
        ]
      : []),
  ]);
  const legend: LegendEntry[] = [
    ...cfgs.map((c) => ({ label: c.name, color: configurationColor(c.name) })),
    { label: 'robust', color: '#555', line: 'solid' },
    ...(certified ? [{ label: 'certified', color: '#555', line: 'dashed' as const }] : []),
  ];
  return lineChart({
    label: `Robust${certified ? ' and certified' : ''} accuracy against ε (first ${r.nQuery} images)`,
    series: lines,
    xTitle: 'ε (L∞ perturbation budget)',
    yTitle: certified ? 'robust / certified accuracy' : 'robust accuracy',
    xTicks: cfgs[0].robustSweep!.map((p) => p.eps),
    xFormat: epsText,
    mark: budgetMark(r),
    legend,
  });
}

/** Older reports: success of PGD (CW loss) against ε from the monotone-in-ε check, from (0, 0). */
export function successSweepChart(r: AuditReport): string | null {
  const lines: LineSeries[] = r.configurations.flatMap((c) => {
    const sweep = c.checks.find((k) => k.sweep)?.sweep;
    if (!sweep?.length) return [];
    return [
      {
        name: c.name,
        color: configurationColor(c.name),
        points: [{ eps: 0, successRate: 0 }, ...sweep].map((p) => ({ x: p.eps, y: p.successRate })),
      },
    ];
  });
  if (!lines.length) return null;
  const ticks = [...new Set(lines.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  return lineChart({
    label: 'Attack success (PGD, CW loss) against ε',
    series: lines,
    xTitle: 'ε (L∞ perturbation budget)',
    yTitle: 'attack success rate',
    xTicks: ticks,
    xFormat: epsText,
    mark: budgetMark(r),
    legend: lines.map((s) => ({ label: s.name, color: s.color })),
  });
}

// Line chart as inline SVG: one polyline per series (solid or dashed) with point markers, ticks and
// gridlines on both axes, axis titles, an optional marked x value (the audit's budget ε) and a legend.
// Used for robust accuracy and attack success against ε, and for the README's headline chart.
import { esc } from './report-format.ts';
import { legend, r1, svgOpen, textWidth, type LegendEntry } from './svg-parts.ts';

/** One line: its points, colour and style. */
export interface LineSeries {
  name: string;
  color: string;
  points: { x: number; y: number }[];
  dashed?: boolean;
}

/** A line chart's data and labels; y is a share in [0, 1] unless yTicks say otherwise. */
export interface LineChartSpec {
  /** Accessible name (the SVG's <title>). */
  label: string;
  series: LineSeries[];
  xTitle: string;
  yTitle: string;
  /** x tick positions (default: every x of the first series); the axis runs from 0 to the largest. */
  xTicks?: number[];
  xFormat?: (x: number) => string;
  /** y tick positions (default 0–100% by 25); the axis runs from 0 to the largest. */
  yTicks?: number[];
  yFormat?: (y: number) => string;
  /** A vertical marker (the budget ε) with its label above the plot. */
  mark?: { x: number; label: string };
  /** Legend entries (default: one per series, solid or dashed as drawn). */
  legend?: LegendEntry[];
  /** Total width in SVG units (default 480) and the plot's height (default 220). */
  width?: number;
  plotHeight?: number;
  /** Where the chart sits in a larger SVG (the headline chart's panels): no root element, shifted. */
  embed?: { x: number; y: number };
}

const TICK_FONT = 12;
const TITLE_FONT = 13;

/** The chart's SVG body and size (for composing panels), without the root element. */
export function lineChartBody(spec: LineChartSpec): { svg: string; width: number; height: number } {
  const width = spec.width ?? 480;
  // Tall enough for the rotated y title.
  const plotH = Math.max(spec.plotHeight ?? 220, textWidth(spec.yTitle, TITLE_FONT) + 12);
  const xFormat = spec.xFormat ?? ((x: number) => String(Number(x.toFixed(4))));
  const yFormat = spec.yFormat ?? ((y: number) => `${Math.round(100 * y)}%`);
  const yTicks = spec.yTicks ?? [0, 0.25, 0.5, 0.75, 1];
  const xTicks = spec.xTicks ?? spec.series[0]?.points.map((p) => p.x) ?? [0, 1];
  const xMax = Math.max(1e-12, ...xTicks, ...spec.series.flatMap((s) => s.points.map((p) => p.x)));
  const yMax = Math.max(1e-12, ...yTicks);
  const yLabelW = Math.max(...yTicks.map((t) => textWidth(yFormat(t), TICK_FONT)));
  const left = 22 + yLabelW + 10;
  const lastLabel = textWidth(xFormat(xTicks[xTicks.length - 1] ?? xMax), TICK_FONT);
  const right = Math.max(12, lastLabel / 2 + 4);
  const top = spec.mark ? 24 : 10;
  const plotW = width - left - right;
  const X = (x: number) => left + (x / xMax) * plotW;
  const Y = (y: number) => top + plotH - (y / yMax) * plotH;
  const parts: string[] = [];
  for (const t of yTicks)
    parts.push(
      `<line x1="${r1(left - 4)}" y1="${r1(Y(t))}" x2="${r1(left + plotW)}" y2="${r1(Y(t))}" stroke="${t === 0 ? '#333' : '#e3e3e3'}"/>`,
      `<text class="tick" x="${r1(left - 7)}" y="${r1(Y(t) + 4)}" font-size="${TICK_FONT}" text-anchor="end">${esc(yFormat(t))}</text>`,
    );
  // x tick labels that would touch their left neighbour are left out (their gridline stays).
  let lastRight = -Infinity;
  for (const t of xTicks) {
    const label = xFormat(t);
    const half = textWidth(label, TICK_FONT) / 2;
    parts.push(
      `<line x1="${r1(X(t))}" y1="${top}" x2="${r1(X(t))}" y2="${r1(top + plotH + 4)}" stroke="${t === 0 ? '#333' : '#e3e3e3'}"/>`,
    );
    if (X(t) - half < lastRight + 4) continue;
    lastRight = X(t) + half;
    parts.push(
      `<text class="tick" x="${r1(X(t))}" y="${r1(top + plotH + 18)}" font-size="${TICK_FONT}" text-anchor="middle">${esc(label)}</text>`,
    );
  }
  if (spec.mark) {
    const mx = X(spec.mark.x);
    const w = textWidth(spec.mark.label, TICK_FONT);
    // Centred on the marker, kept inside the chart's width.
    const tx = Math.min(width - 2 - w / 2, Math.max(left + w / 2, mx));
    parts.push(
      `<line class="mark" x1="${r1(mx)}" y1="${r1(top - 6)}" x2="${r1(mx)}" y2="${r1(top + plotH)}" stroke="#222" stroke-dasharray="2 3"/>`,
      `<text class="mark-label" x="${r1(tx)}" y="${r1(top - 10)}" font-size="${TICK_FONT}" text-anchor="middle">${esc(spec.mark.label)}</text>`,
    );
  }
  for (const s of spec.series) {
    if (!s.points.length) continue;
    const pts = s.points.map((p) => `${r1(X(p.x))},${r1(Y(p.y))}`).join(' ');
    parts.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="${s.dashed ? 1.5 : 2}"${s.dashed ? ' stroke-dasharray="5 3"' : ''} points="${pts}"><title>${esc(s.name)}</title></polyline>`,
    );
    for (const p of s.points) {
      const tip = `<title>${esc(`${s.name}, ${xFormat(p.x)}: ${yFormat(p.y)}`)}</title>`;
      parts.push(
        s.dashed
          ? `<rect x="${r1(X(p.x) - 2.5)}" y="${r1(Y(p.y) - 2.5)}" width="5" height="5" fill="white" stroke="${s.color}">${tip}</rect>`
          : `<circle cx="${r1(X(p.x))}" cy="${r1(Y(p.y))}" r="2.5" fill="${s.color}">${tip}</circle>`,
      );
    }
  }
  parts.push(
    `<line class="axis" x1="${r1(left)}" y1="${top}" x2="${r1(left)}" y2="${r1(top + plotH)}" stroke="#333"/>`,
    `<line class="axis" x1="${r1(left)}" y1="${r1(top + plotH)}" x2="${r1(left + plotW)}" y2="${r1(top + plotH)}" stroke="#333"/>`,
    `<text class="axis-title" x="${r1(left + plotW / 2)}" y="${r1(top + plotH + 38)}" font-size="${TITLE_FONT}" text-anchor="middle">${esc(spec.xTitle)}</text>`,
    `<text class="axis-title" x="14" y="${r1(top + plotH / 2)}" font-size="${TITLE_FONT}" text-anchor="middle" transform="rotate(-90 14 ${r1(top + plotH / 2)})">${esc(spec.yTitle)}</text>`,
  );
  const entries =
    spec.legend ??
    spec.series.map(
      (s) =>
        ({ label: s.name, color: s.color, line: s.dashed ? 'dashed' : 'solid' }) as LegendEntry,
    );
  const leg = legend(entries, 8, top + plotH + 52, width - 16);
  const height = top + plotH + 52 + leg.height + 4;
  const body = `${parts.join('')}${leg.svg}`;
  const svg = spec.embed
    ? `<g transform="translate(${r1(spec.embed.x)} ${r1(spec.embed.y)})">${body}</g>`
    : body;
  return { svg, width, height };
}

/** Renders a line chart as a standalone inline <svg>. */
export function lineChart(spec: LineChartSpec): string {
  const { svg, width, height } = lineChartBody({ ...spec, embed: undefined });
  return `${svgOpen('line', spec.label, width, height)}${svg}</svg>`;
}

// Grouped horizontal bar chart as inline SVG: one group per category (an attack), one bar per series (a
// configuration) in its fixed colour, each bar labelled with its value, a ticked and gridded value axis, axis
// titles and a legend. Shares run 0–100%.
import { esc, pct } from './report-format.ts';
import { legend, r1, svgOpen, textWidth, type LegendEntry } from './svg-parts.ts';

/** One bar: its series' name and value (a share in [0, 1]; a null bar is left out of its group). */
export interface Bar {
  series: string;
  value: number | null;
}

/** A grouped bar chart's data and labels. */
export interface BarChartSpec {
  /** Accessible name (the SVG's <title>). */
  label: string;
  groups: { label: string; bars: Bar[] }[];
  /** The series in legend order, with their colours. */
  series: { name: string; color: string }[];
  xTitle: string;
  yTitle: string;
  /** Total width in SVG units (default 480); the chart scales to its container. */
  width?: number;
}

const TICK_FONT = 12;
const VALUE_FONT = 11;
const TITLE_FONT = 13;
// NOTE: a row's pitch must exceed a value label's rendered height (about 1.2 × its font) or labels overlap.
const BAR = 12;
const PITCH = 14;
const GROUP_GAP = 10;

/** Renders a grouped horizontal bar chart (shares 0–100%). */
export function barChart(input: BarChartSpec): string {
  // Series without a value in a group (an attack run only on randomized configurations) take no row.
  const spec = {
    ...input,
    groups: input.groups
      .map((g) => ({ ...g, bars: g.bars.filter((b) => b.value !== null) }))
      .filter((g) => g.bars.length),
  };
  const width = spec.width ?? 480;
  const groupLabelWidth = Math.max(0, ...spec.groups.map((g) => textWidth(g.label, TICK_FONT)));
  const left = 22 + groupLabelWidth + 10;
  const valueRoom = textWidth('100.0%', VALUE_FONT) + 8;
  const plotW = width - left - valueRoom;
  const top = 8;
  const groupH = (g: { bars: Bar[] }) => g.bars.length * PITCH;
  const plotH =
    spec.groups.reduce((s, g) => s + groupH(g), 0) + GROUP_GAP * (spec.groups.length + 1);
  const X = (v: number) => left + v * plotW;
  const axisY = top + plotH;
  const colour = new Map(spec.series.map((s) => [s.name, s.color]));
  const parts: string[] = [];
  // Value gridlines and ticks (0–100% by 25).
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(
      `<line x1="${r1(X(t))}" y1="${top}" x2="${r1(X(t))}" y2="${r1(axisY + 4)}" stroke="${t === 0 ? '#333' : '#e3e3e3'}"/>`,
      `<text class="tick" x="${r1(X(t))}" y="${r1(axisY + 18)}" font-size="${TICK_FONT}" text-anchor="middle">${100 * t}%</text>`,
    );
  }
  let y = top + GROUP_GAP;
  for (const g of spec.groups) {
    const h = groupH(g);
    parts.push(
      `<line x1="${r1(left - 4)}" y1="${r1(y + h / 2)}" x2="${r1(left)}" y2="${r1(y + h / 2)}" stroke="#333"/>`,
      `<text class="tick" x="${r1(left - 8)}" y="${r1(y + h / 2 + 4)}" font-size="${TICK_FONT}" text-anchor="end">${esc(g.label)}</text>`,
    );
    g.bars.forEach((b, i) => {
      const by = y + i * PITCH + (PITCH - BAR) / 2;
      const v = b.value!;
      const text = pct(v);
      parts.push(
        `<rect x="${r1(left)}" y="${r1(by)}" width="${r1(Math.max(0, v) * plotW)}" height="${BAR}" fill="${colour.get(b.series) ?? '#999'}"><title>${esc(`${b.series}, ${g.label}: ${text}`)}</title></rect>`,
      );
      parts.push(
        `<text class="value" x="${r1(X(Math.max(0, v)) + 3)}" y="${r1(by + BAR - 2)}" font-size="${VALUE_FONT}">${text}</text>`,
      );
    });
    y += h + GROUP_GAP;
  }
  // Axis lines: the category axis on the left, the value axis along the bottom.
  parts.push(
    `<line class="axis" x1="${r1(left)}" y1="${top}" x2="${r1(left)}" y2="${r1(axisY)}" stroke="#333"/>`,
    `<line class="axis" x1="${r1(left)}" y1="${r1(axisY)}" x2="${r1(X(1))}" y2="${r1(axisY)}" stroke="#333"/>`,
    `<text class="axis-title" x="${r1(left + plotW / 2)}" y="${r1(axisY + 38)}" font-size="${TITLE_FONT}" text-anchor="middle">${esc(spec.xTitle)}</text>`,
    `<text class="axis-title" x="14" y="${r1(top + plotH / 2)}" font-size="${TITLE_FONT}" text-anchor="middle" transform="rotate(-90 14 ${r1(top + plotH / 2)})">${esc(spec.yTitle)}</text>`,
  );
  const entries: LegendEntry[] = spec.series.map((s) => ({ label: s.name, color: s.color }));
  const leg = legend(entries, 8, axisY + 52, width - 16);
  const height = axisY + 52 + leg.height + 4;
  return `${svgOpen('bar', spec.label, width, height)}${parts.join('')}${leg.svg}</svg>`;
}

// Pieces every SVG chart of the report shares: one colour per configuration (the same in every chart and
// report), a conservative text-width estimate for layout, the chart's root element, and a wrapping legend.
import { CONFIGURATION_NAMES } from './configurations.ts';
import { esc } from './report-format.ts';

// Tableau 10, chosen per configuration so that related ones stay apart: the GI variants warm, AT ones green.
const CONFIGURATION_COLORS: Record<string, string> = {
  dense: '#4e79a7',
  hashed: '#9c755f',
  'hashed+GI scale': '#f28e2b',
  'hashed+GI magnitude': '#b07aa1',
  'hashed+GI random': '#e15759',
  'dense AT': '#59a14f',
  'hashed AT': '#76b7b2',
  'hashed AT+GI random': '#c9a227',
};
const SPARE_COLORS = ['#ff9da7', '#7f7f7f', '#17becf', '#8c564b'];

/** The colour of a configuration: fixed per name, so every chart of every report agrees. */
export function configurationColor(name: string): string {
  const known = CONFIGURATION_COLORS[name];
  if (known) return known;
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return SPARE_COLORS[h % SPARE_COLORS.length];
}

/** Configuration names in the audit's order (unknown names after, in their given order). */
export function configurationOrder(a: string, b: string): number {
  const rank = (n: string) => {
    const i = CONFIGURATION_NAMES.indexOf(n);
    return i < 0 ? CONFIGURATION_NAMES.length : i;
  };
  return rank(a) - rank(b);
}

/** The font every chart names (the page's CSS font when inline; a standalone SVG file needs its own). */
export const CHART_FONT = 'system-ui, -apple-system, Segoe UI, DejaVu Sans, Arial, sans-serif';

/**
 * Rendered width of `text` at `fontSize`, estimated on the wide side (per-character widths of DejaVu Sans,
 * the widest common fallback), so labels laid out with it never touch.
 */
export function textWidth(text: string, fontSize: number): number {
  let em = 0;
  for (const ch of text) {
    if (" .,:;'|!()[]ilj".includes(ch)) em += 0.36;
    else if ('mwMW%@—'.includes(ch)) em += 1.0;
    else if (/[A-Z]/.test(ch)) em += 0.76;
    else if (/[0-9]/.test(ch)) em += 0.65;
    else em += 0.64;
  }
  return em * fontSize;
}

/** A number rounded for an SVG attribute (one decimal is finer than any screen needs). */
export const r1 = (v: number) => String(Math.round(v * 10) / 10);

/** The root <svg>: scales with its viewBox (CSS keeps it within the page), titled for screen readers. */
export function svgOpen(kind: string, label: string, width: number, height: number): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="${kind}" viewBox="0 0 ${r1(width)} ${r1(height)}" ` +
    `width="${r1(width)}" height="${r1(height)}" font-family="${CHART_FONT}" role="img" aria-label="${esc(label)}">` +
    `<title>${esc(label)}</title>`
  );
}

/** One legend entry: a colour swatch (a dashed line when `dashed`) and its label. */
export interface LegendEntry {
  label: string;
  color: string;
  /** Draw the swatch as a line (solid or dashed) instead of a square. */
  line?: 'solid' | 'dashed';
}

const LEGEND_FONT = 12;
const LEGEND_ROW = 20;

/**
 * A legend flowing left to right from (x, y) within `width`, wrapping to new rows; returns its SVG and
 * height. Entries are spaced by the estimated text width, so no two labels overlap.
 */
export function legend(
  entries: readonly LegendEntry[],
  x: number,
  y: number,
  width: number,
): { svg: string; height: number } {
  const parts: string[] = [];
  let cx = x,
    row = 0;
  for (const e of entries) {
    const w = 26 + textWidth(e.label, LEGEND_FONT) + 14;
    if (cx > x && cx + w > x + width) {
      cx = x;
      row++;
    }
    const cy = y + row * LEGEND_ROW;
    parts.push(
      e.line
        ? `<line x1="${r1(cx)}" y1="${r1(cy + 7)}" x2="${r1(cx + 20)}" y2="${r1(cy + 7)}" stroke="${e.color}" stroke-width="2"${e.line === 'dashed' ? ' stroke-dasharray="5 3"' : ''}/>`
        : `<rect x="${r1(cx + 5)}" y="${r1(cy + 2)}" width="11" height="11" fill="${e.color}"/>`,
      `<text class="legend" x="${r1(cx + 26)}" y="${r1(cy + 12)}" font-size="${LEGEND_FONT}">${esc(e.label)}</text>`,
    );
    cx += w;
  }
  return {
    svg: `<g class="legend">${parts.join('')}</g>`,
    height: entries.length ? (row + 1) * LEGEND_ROW : 0,
  };
}

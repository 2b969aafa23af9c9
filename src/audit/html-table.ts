// An HTML table from plain data (header cells and rows of cells), in a wrapper that scrolls sideways on a
// narrow screen instead of widening the page.
import { esc } from './report-format.ts';

/** A cell: plain text, or text with emphasis, code style, a configuration swatch or raw (trusted) HTML. */
export type Cell =
  string | { text: string; strong?: boolean; code?: boolean; swatch?: string } | { html: string };

/** A table as data: its caption, header cells, rows and an optional note below it. */
export interface TableSpec {
  caption?: string;
  head: string[];
  rows: Cell[][];
  /** Rows at the end set apart as totals (the paper table's average, the adaptive worst cases). */
  foot?: Cell[][];
  /** The first column holds names (left-aligned); the rest are numbers (right-aligned) unless `textColumns`. */
  textColumns?: number[];
  note?: string;
}

function cellHtml(c: Cell): string {
  if (typeof c === 'string') return esc(c);
  if ('html' in c) return c.html;
  let s = esc(c.text);
  if (c.code) s = `<code>${s}</code>`;
  if (c.strong) s = `<strong>${s}</strong>`;
  if (c.swatch) s = `<span class="swatch" style="background:${esc(c.swatch)}"></span>${s}`;
  return s;
}

/** Renders a table (in its scrolling wrapper) and its note. */
export function htmlTable(t: TableSpec): string {
  const textCols = new Set([0, ...(t.textColumns ?? [])]);
  const row = (cells: Cell[], tag: 'td' | 'th') =>
    `<tr>${cells.map((c, i) => `<${tag}${textCols.has(i) ? ' class="text"' : ''}>${cellHtml(c)}</${tag}>`).join('')}</tr>`;
  const caption = t.caption ? `<caption>${esc(t.caption)}</caption>` : '';
  const foot = t.foot?.length ? `<tfoot>${t.foot.map((r) => row(r, 'td')).join('')}</tfoot>` : '';
  return (
    `<div class="table-wrap"><table>${caption}<thead>${row(t.head, 'th')}</thead>` +
    `<tbody>${t.rows.map((r) => row(r, 'td')).join('')}</tbody>${foot}</table></div>` +
    (t.note ? `<p class="note">${esc(t.note)}</p>` : '')
  );
}

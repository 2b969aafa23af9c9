// Number and text formatting shared by the Markdown and HTML reports: percentages, fixed digits, counts and
// percentage points, a dash for a missing number, and HTML escaping.

/** A missing number: NaN in a fresh report, null once it has been through JSON (as in a merge), or absent. */
export const missing = (v: number | null | undefined): v is null | undefined =>
  v === null || v === undefined || Number.isNaN(v);
/** A share as a percentage with one decimal, or a dash. */
export const pct = (v: number | null | undefined) =>
  missing(v) ? '—' : `${(100 * v).toFixed(1)}%`;
/** A number with `digits` decimals, or a dash. */
export const num = (v: number | null | undefined, digits: number) =>
  missing(v) ? '—' : v.toFixed(digits);
/** An integer count, or a dash. */
export const count = (v: number | null | undefined) => (missing(v) ? '—' : String(v));
/** A difference of shares in percentage points, signed, or a dash. */
export const pp = (v: number | null) =>
  v === null ? '—' : `${v >= 0 ? '+' : ''}${(100 * v).toFixed(1)} pp`;
/** An ε as written in the report's tables and charts: up to four decimals, trailing zeros dropped. */
export const epsText = (eps: number) => String(Number(eps.toFixed(4)));

/** Text escaped for HTML and SVG (element content and double-quoted attributes). */
export const esc = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

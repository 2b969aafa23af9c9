// The scaling chart as SVG text: one panel per model pair (dense and hashed 1/8 twin), batch size on a log₂ axis,
// images/s on a log₁₀ axis, one line per (model, threads); a shared legend. Plain strings, no dependencies.
import { SCALING_PAIRS, type ScalingPoint } from './scaling.ts';

const W = 1040,
  H = 410,
  PANEL_W = 280,
  GAP = 60,
  PANEL_H = 250,
  LEFT = 62,
  TOP = 100;
const COLORS: Record<number, string> = { 1: '#1f77b4', 2: '#d62728' };
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const kfmt = (v: number) => (v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : String(v));

/** Lines of one panel: dense solid, hashed dashed; blue 1 thread, red 2. */
function panel(points: ScalingPoint[], pair: readonly [string, string], x0: number): string[] {
  const mine = points.filter((p) => p.model === pair[0] || p.model === pair[1]);
  const batches = [...new Set(mine.map((p) => p.batch))].sort((a, b) => a - b);
  const out: string[] = [];
  const title = `<text x="${x0 + PANEL_W / 2}" y="${TOP - 12}" text-anchor="middle" font-weight="bold">${esc(pair[0])} / ${esc(pair[1])}</text>`;
  out.push(title);
  if (!mine.length) return out;
  const values = mine.map((p) => Math.max(p.imagesPerSec, 1));
  const lo = 10 ** Math.floor(Math.log10(Math.min(...values)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...values)));
  const bx = (b: number) => {
    const a = Math.log2(batches[0]),
      z = Math.log2(batches[batches.length - 1]);
    return x0 + (z > a ? ((Math.log2(b) - a) / (z - a)) * PANEL_W : PANEL_W / 2);
  };
  const vy = (v: number) =>
    TOP +
    PANEL_H -
    ((Math.log10(Math.max(v, 1)) - Math.log10(lo)) / Math.log10(hi / lo || 10)) * PANEL_H;
  // Axes, ticks and grid.
  out.push(
    `<line class="axis" x1="${x0}" y1="${TOP + PANEL_H}" x2="${x0 + PANEL_W}" y2="${TOP + PANEL_H}" stroke="#000"/>`,
    `<line class="axis" x1="${x0}" y1="${TOP}" x2="${x0}" y2="${TOP + PANEL_H}" stroke="#000"/>`,
  );
  for (const b of batches)
    out.push(
      `<line x1="${bx(b)}" y1="${TOP + PANEL_H}" x2="${bx(b)}" y2="${TOP + PANEL_H + 5}" stroke="#000"/>`,
      `<text class="tick-x" x="${bx(b)}" y="${TOP + PANEL_H + 18}" text-anchor="middle">${b}</text>`,
    );
  for (let v = lo; v <= hi * 1.0001; v *= 10)
    out.push(
      `<line x1="${x0 - 5}" y1="${vy(v)}" x2="${x0 + PANEL_W}" y2="${vy(v)}" stroke="#ddd"/>`,
      `<text class="tick-y" x="${x0 - 8}" y="${vy(v) + 4}" text-anchor="end">${kfmt(v)}</text>`,
    );
  out.push(
    `<text x="${x0 + PANEL_W / 2}" y="${TOP + PANEL_H + 38}" text-anchor="middle">batch size (log scale)</text>`,
  );
  for (const model of pair)
    for (const threads of [1, 2]) {
      const line = mine
        .filter((p) => p.model === model && p.threads === threads)
        .sort((a, b) => a.batch - b.batch);
      if (!line.length) continue;
      const dash = model === pair[1] ? ' stroke-dasharray="6 4"' : '';
      const pts = line.map((p) => `${bx(p.batch).toFixed(1)},${vy(p.imagesPerSec).toFixed(1)}`);
      out.push(
        `<polyline class="series" data-model="${esc(model)}" data-threads="${threads}" fill="none" stroke="${COLORS[threads] ?? '#555'}" stroke-width="2"${dash} points="${pts.join(' ')}"/>`,
        ...line.map(
          (p) =>
            `<circle cx="${bx(p.batch).toFixed(1)}" cy="${vy(p.imagesPerSec).toFixed(1)}" r="3" fill="${COLORS[threads] ?? '#555'}"><title>${esc(model)}, ${threads} thread${threads > 1 ? 's' : ''}, batch ${p.batch}: ${p.imagesPerSec} images/s</title></circle>`,
        ),
      );
    }
  return out;
}

/** The whole chart; `caption` names the run (command, machine, date). */
export function scalingSvg(points: ScalingPoint[], caption: string): string {
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">hashguard inference throughput against batch size and threads</text>`,
    `<text x="${W / 2}" y="38" text-anchor="middle" fill="#555">${esc(caption)}</text>`,
    `<text transform="translate(16 ${TOP + PANEL_H / 2}) rotate(-90)" text-anchor="middle">images/s (log scale)</text>`,
  ];
  SCALING_PAIRS.forEach((pair, i) =>
    parts.push(...panel(points, pair, LEFT + i * (PANEL_W + GAP))),
  );
  // Legend: colour = threads, dash = hashed twin.
  const items = [
    ['dense, 1 thread', COLORS[1], ''],
    ['dense, 2 threads', COLORS[2], ''],
    ['hashed 1/8, 1 thread', COLORS[1], '6 4'],
    ['hashed 1/8, 2 threads', COLORS[2], '6 4'],
  ];
  parts.push('<g class="legend">');
  items.forEach(([label, color, dash], i) => {
    const x = LEFT + i * 230,
      y = 56;
    parts.push(
      `<line x1="${x}" y1="${y}" x2="${x + 30}" y2="${y}" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`,
      `<text x="${x + 36}" y="${y + 4}">${label}</text>`,
    );
  });
  parts.push('</g>', '</svg>');
  return parts.join('\n') + '\n';
}

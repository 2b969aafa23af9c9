// The remote (black-box, over HTTP) audit as Markdown: what the server reveals, clean accuracy, one row per
// attack and ε, the checks, and why the run stopped early when a budget ended it.
import type { RemoteAuditReport } from './report-types.ts';

const pct = (v: number | null) =>
  v === null || Number.isNaN(v) ? '—' : `${(100 * v).toFixed(1)}%`;
const num = (v: number, digits = 3) => (Number.isNaN(v) ? '—' : v.toFixed(digits));

/** The remote audit report as a Markdown page. */
export function remoteAuditMarkdown(r: RemoteAuditReport): string {
  const s = r.server;
  const L: string[] = [`# Remote robustness audit: ${s.model} at ${s.url}`, ''];
  L.push(
    `Black-box, through the server's public API only: ${s.access === 'scores' ? `scores (${s.scores})` : 'labels only'}` +
      `${s.randomized ? `, randomized model (an image counts as broken when most of ${r.verdictQueries} fresh queries misclassify it)` : ''}. ` +
      `Backend ${s.backend ?? 'unknown'}, weights sha256 \`${s.weightsSha256 ?? 'unknown'}\`. ` +
      `${r.n} ${r.dataset} test images, seed ${r.seed}${r.indexSha256 ? `, subset index sha256 \`${r.indexSha256.slice(0, 16)}…\`` : ''}. ` +
      `${r.queries} server queries in all. Produced by \`${r.command}\` in ${(r.seconds / 60).toFixed(1)} min.`,
    '',
  );
  if (r.stopped)
    L.push(
      `**Stopped early by a query budget**: ${r.stopped}. Rows below cover the images attacked before it.`,
      '',
    );
  L.push(`Clean accuracy: ${pct(r.cleanAccuracy)}.`, '');
  L.push(
    '| attack | L∞ ε | n | success | any query | single query | median L∞ | median queries | queries | seconds |',
    '|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const a of r.attacks) {
    L.push(
      `| ${a.describe} | ${num(a.eps, 4)} | ${a.n} | ${pct(a.successRate)} | ${pct(a.successAny)} | ${pct(a.successSingle)} | ${num(a.medianLinf)} | ${Number.isNaN(a.medianQueries) ? '—' : a.medianQueries} | ${a.queries} | ${a.seconds.toFixed(1)} |`,
    );
  }
  if (r.checks.length) {
    L.push('', '## Checks', '');
    for (const k of r.checks)
      L.push(`- ${k.pass ? 'pass' : '**FLAG**'} \`${k.id}\`: ${k.evidence}`);
  }
  return L.join('\n') + '\n';
}

// Writes an audit report's files, each atomically: NAME.json (the data), NAME.md and NAME.html (renderings of
// it). `hashguard audit` (a run, --merge, --add-certificates) writes all three; scripts/render-reports.ts
// re-renders only the HTML of committed reports.
import { auditHtml, auditMarkdown, type AuditReport } from '../audit/index.ts';
import { writeFileAtomic } from '../io/index.ts';

/** The files of one report, by extension. */
export const REPORT_FORMATS = ['.json', '.md', '.html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** The text of one of a report's files. */
export function renderReport(report: AuditReport, format: ReportFormat): string {
  if (format === '.json') return JSON.stringify(report, null, 1) + '\n';
  if (format === '.md') return auditMarkdown(report);
  return auditHtml(report);
}

/** Writes `<out>.json`, `.md` and `.html` (or only `formats`), each atomically; creates the folder. */
export async function writeAuditReport(
  out: string,
  report: AuditReport,
  formats: readonly ReportFormat[] = REPORT_FORMATS,
): Promise<void> {
  for (const f of formats) await writeFileAtomic(`${out}${f}`, renderReport(report, f));
}

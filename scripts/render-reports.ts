// Re-renders the HTML of every committed audit report (docs/audit/**/NAME.html) from its NAME.json with the
// audit's own writer, atomically; the JSON and Markdown are never touched. Prints each page's size.
//   bun scripts/render-reports.ts
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { AuditReport } from '../src/audit/index.ts';
import { scriptFlags, writeAuditReport } from '../src/cli/index.ts';

scriptFlags(
  'usage: bun scripts/render-reports.ts   (rewrites docs/audit/**/*.html from the .json beside each; no flags)',
);
const root = join(import.meta.dir, '..');
const dir = join(root, 'docs/audit');

/** Every NAME.json under `d` (recursively) that has a NAME.html beside it, sorted. */
function reports(d: string): string[] {
  return readdirSync(d)
    .sort()
    .flatMap((f) => {
      const p = join(d, f);
      if (statSync(p).isDirectory()) return reports(p);
      return f.endsWith('.json') && existsSync(p.replace(/\.json$/, '.html')) ? [p] : [];
    });
}

for (const json of reports(dir)) {
  const report: AuditReport = JSON.parse(readFileSync(json, 'utf8'));
  // A remote audit's report is another format, rendered as Markdown only.
  if (!Array.isArray(report.configurations)) continue;
  const out = json.replace(/\.json$/, '');
  await writeAuditReport(out, report, ['.html']);
  const kb = statSync(`${out}.html`).size / 1024;
  console.log(`${relative(root, out)}.html  ${kb.toFixed(0)} kB`);
}

// Draws the README's headline chart, docs/img/headline-robustness.svg (clean and robust accuracy per defense
// against ε), from the committed audit reports docs/audit/*.json; a test checks the committed file is current.
//   bun scripts/headline-chart.ts
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { headlineChart, type AuditReport } from '../src/audit/index.ts';
import { scriptFlags } from '../src/cli/index.ts';
import { writeFileAtomic } from '../src/io/index.ts';

scriptFlags(
  'usage: bun scripts/headline-chart.ts   (rewrites docs/img/headline-robustness.svg from docs/audit/*.json; no flags)',
);
const root = join(import.meta.dir, '..');
const dir = join(root, 'docs/audit');
const reports: AuditReport[] = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));
const out = join(root, 'docs/img/headline-robustness.svg');
const svg = headlineChart(reports);
await writeFileAtomic(out, svg);
console.log(`docs/img/headline-robustness.svg  ${(svg.length / 1024).toFixed(1)} kB`);

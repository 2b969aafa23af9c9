// Prints the README's audit summary (the two headline tables per family) from docs/audit/*.json.
//   bun scripts/audit-summary.ts
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditReport } from '../src/audit/index.ts';
import { scriptFlags } from '../src/cli/index.ts';

scriptFlags(
  "usage: bun scripts/audit-summary.ts   (prints the README's audit summary tables from docs/audit/*.json; no flags)",
);
const dir = join(import.meta.dir, '../docs/audit');
const pct = (v: number | null) =>
  v === null || Number.isNaN(v) ? '—' : `${(100 * v).toFixed(1)}%`;
for (const f of readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()) {
  const r: AuditReport = JSON.parse(readFileSync(join(dir, f), 'utf8'));
  const cfgs = r.configurations;
  console.log(
    `**${r.family}** (${r.dataset}; hashed \`${r.hashed.name}\`; ${r.n} images, query-based attacks on ${r.nQuery}; [report](docs/audit/${f.replace('.json', '.md')}), [HTML](docs/audit/${f.replace('.json', '.html')}))\n`,
  );
  console.log(`| | ${cfgs.map((c) => c.name).join(' | ')} |`);
  console.log(`|---|${cfgs.map(() => '---').join('|')}|`);
  console.log(`| clean accuracy | ${cfgs.map((c) => pct(c.cleanAccuracy)).join(' | ')} |`);
  console.log(
    `| exactly-zero input gradients | ${cfgs.map((c) => pct(c.zeroGradientShare)).join(' | ')} |`,
  );
  console.log(
    `| paper table: average success (FGSM, BIM, JSMA, C&W-L2) | ${cfgs.map((c) => pct(c.paperAverage)).join(' | ')} |`,
  );
  for (const id of ['fgsm', 'pgd-ce', 'pgd-cw', 'apgd-dlr', 'eot-pgd', 'square', 'hsj'])
    console.log(
      `| ${id} | ${cfgs.map((c) => pct(c.attacks.find((a) => a.id === id)?.successRate ?? null)).join(' | ')} |`,
    );
  console.log(
    `| adaptive worst case per image (all ${r.n}) | ${cfgs.map((c) => `**${pct(c.adaptiveWorstCase.full.successRate)}**`).join(' | ')} |`,
  );
  // Reports with the side-by-side defenses (adversarial training, certificates) carry the bracket too.
  if (cfgs.some((c) => c.robustAccuracy !== undefined))
    console.log(
      `| robust accuracy (all ${r.n}) | ${cfgs.map((c) => `**${pct(c.robustAccuracy ?? null)}**`).join(' | ')} |`,
    );
  if (cfgs.some((c) => c.certifiedAccuracy !== undefined))
    console.log(
      `| certified accuracy (${cfgs.find((c) => c.certifiedMethod)?.certifiedMethod ?? '—'}) | ${cfgs.map((c) => pct(c.certifiedAccuracy ?? null)).join(' | ')} |`,
    );
  console.log(
    `| masking checks flagged | ${cfgs
      .map(
        (c) =>
          c.checks
            .filter((k) => !k.pass)
            .map((k) => k.id)
            .join(', ') || 'none',
      )
      .join(' | ')} |`,
  );
  console.log('');
}

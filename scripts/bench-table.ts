// The README's benchmark section from `bun run bench` results: the targets with their measured ratios, every
// workload's median per peer, the scaling chart, and (with --memory) the serving memory table of `bun run
// bench:memory`. Prints Markdown, or with --write README.md replaces what lies between the bench-table markers.
//   bun scripts/bench-table.ts bench/results/2026-12-07-bun.json --memory bench/results/2026-12-07-memory-bun.json --write README.md
import { readFileSync } from 'node:fs';
import { scriptArgs, usageExit } from '../src/cli/index.ts';
import { writeFileAtomic } from '../src/io/index.ts';

const USAGE = `usage: bun scripts/bench-table.ts bench/results/<file>.json [--memory <memory file>.json] [--write README.md]
  prints the README's benchmark tables from a \`bun run bench\` result (schema hashguard-bench/2); --write replaces the
  text between <!-- bench-table:start --> and <!-- bench-table:end --> in that file instead`;
const START = '<!-- bench-table:start -->',
  END = '<!-- bench-table:end -->';

const { values, positionals } = scriptArgs(
  USAGE,
  { memory: { type: 'string' }, write: { type: 'string' } },
  { positionals: true },
);
if (positionals.length !== 1)
  usageExit(USAGE, `expected one results file, got ${positionals.length}`);
const file = positionals[0];
const r = JSON.parse(readFileSync(file, 'utf8'));
if (r.schema !== 'hashguard-bench/2')
  usageExit(USAGE, `${file} is not a hashguard-bench/2 result (written by an older bench?)`);

const PEERS = [
  ['hashguard', 'hashguard'],
  ['hashguard-h8', 'hashguard, hashed 1/8 twin'],
  ['onnxruntime', 'onnxruntime-node'],
  ['torch', 'PyTorch'],
] as const;
const fmt = (v: number, unit: string) =>
  unit === 'ms'
    ? `${v.toFixed(3)} ms`
    : `${v >= 10000 ? `${(v / 1000).toFixed(1)}k` : Math.round(v)} ${unit}`;
const v = r.machine.versions;
const torch = r.peers.torch;
const lines: string[] = [
  `\`${r.command}\` on ${r.machine.cpu} (${r.machine.cores} cores, ${r.machine.memoryGiB} GiB; ${r.machine.simd.join(', ')}), ` +
    `bun ${v.bun}, onnxruntime-node ${v.onnxruntime ?? 'absent'}, ` +
    (torch.skipped
      ? `PyTorch skipped (${torch.skipped})`
      : `PyTorch ${v.torch} (Python ${v.python}, BLAS ${r.machine.torchBlas})`) +
    `, ${r.date.slice(0, 10)}, commit ${r.source?.commit?.slice(0, 7) ?? '?'}${r.source?.dirty ? ' (dirty)' : ''}; ` +
    `median of ${r.settings.rounds} interleaved round${r.settings.rounds > 1 ? 's' : ''}; written to \`${file}\`.`,
  '',
  '| ratio | measured | target | met | what it divides |',
  '|---|---|---|---|---|',
];
for (const [key, x] of Object.entries(r.ratios) as [string, any][])
  lines.push(
    `| \`${key}\` | ${x.value === null ? `n/a (${x.reason})` : `${x.value}×`} | ${x.target} | ${x.pass === null ? '—' : x.pass ? 'yes' : '**no**'} | ${x.direction} |`,
  );
lines.push(
  '',
  `| workload | threads | ${PEERS.map(([, name]) => name).join(' | ')} |`,
  `|---|---|${PEERS.map(() => '---').join('|')}|`,
);
for (const w of r.workloads) {
  const cell = (peer: string) => {
    const x = w.results[peer];
    if (!x) return '—';
    if (x.skipped) return `skipped`;
    return fmt(x.median, w.unit) + (x.epochSeconds ? ` (${x.epochSeconds} s/epoch)` : '');
  };
  lines.push(`| ${w.title} | ${w.threads} | ${PEERS.map(([p]) => cell(p)).join(' | ')} |`);
}
if (r.scaling?.points?.length)
  lines.push(
    '',
    '![hashguard inference throughput against batch size (1-1024) and threads (1, 2), dense and hashed models](docs/img/bench-scaling.svg)',
  );
if (values.memory) {
  const m = JSON.parse(readFileSync(values.memory as string, 'utf8'));
  lines.push(
    '',
    `Serving memory (\`${m.command}\`, ${m.date.slice(0, 10)}; ${m.requests.toLocaleString('en-US')} requests per model, ${m.settings.describe}):`,
    '',
    '| model | resident after warm-up | after the requests | peak | growth, trend (target ≤ 5%) | growth, last sample |',
    '|---|---|---|---|---|---|',
  );
  // Older files have no trend (10 samples, judged on the last one): their growth column is that sample's.
  for (const x of m.models) {
    const growth = x.trendGrowthPercent ?? x.growthPercent;
    lines.push(
      `| ${x.model} | ${x.rssAfterWarmupMiB} MiB | ${x.rssAfterMiB} MiB | ${x.peakMiB} MiB | ${growth}% ${growth <= 5 ? '' : '**(over)**'} | ${x.growthPercent}% |`,
    );
  }
}
const text = lines.join('\n');
if (values.write) {
  const target = values.write as string;
  const doc = readFileSync(target, 'utf8');
  const a = doc.indexOf(START),
    b = doc.indexOf(END);
  if (a < 0 || b < a) usageExit(USAGE, `${target} has no ${START} … ${END} block`);
  await writeFileAtomic(target, `${doc.slice(0, a + START.length)}\n${text}\n${doc.slice(b)}`);
  console.log(`wrote the benchmark tables into ${target}`);
} else console.log(text);

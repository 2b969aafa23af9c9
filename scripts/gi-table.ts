// Prints the README's gradient-inhibition table from docs/gi-measurements.jsonl (scripts/gi-measurements.sh).
//   bun scripts/gi-table.ts
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { scriptFlags } from '../src/cli/index.ts';

scriptFlags(
  "usage: bun scripts/gi-table.ts   (prints the README's gradient-inhibition table from docs/gi-measurements.jsonl; no flags)",
);
const rows = readFileSync(join(import.meta.dir, '../docs/gi-measurements.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l));
const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
const stage = (s: {
  kind: string;
  alpha?: number;
  eps?: number;
  alphaMin?: number;
  alphaMax?: number;
  noise?: number;
}) =>
  s.kind === 'scale'
    ? `scale ×${s.alpha}`
    : s.kind === 'magnitude'
      ? `magnitude ε ${s.eps}`
      : `random α∈[${s.alphaMin}, ${s.alphaMax}], noise ${s.noise}`;
console.log(
  '| model | GI stage | clean accuracy before → after | change | predictions changed | exactly-zero input gradients before → after | harden time |',
);
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  const calibrated = r.magnitudeCalibration ? ' (calibrated)' : '';
  console.log(
    `| ${r.source} | ${r.stages.map(stage).join(' + ')}${calibrated} | ${pct(r.testAccuracyBefore)} → ${pct(r.testAccuracy)} | ${r.changePp >= 0 ? '+' : ''}${r.changePp.toFixed(2)} pp | ${r.predictionsChanged} / ${r.testCount ?? 10000} | ${pct(r.zeroGradientShareBefore)} → ${pct(r.zeroGradientShare)} | ${r.totalSeconds.toFixed(1)} s (edit ${(1000 * r.editSeconds).toFixed(1)} ms) |`,
  );
}

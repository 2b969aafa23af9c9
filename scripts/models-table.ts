// Prints the README's models table from the committed model.json files (no hand-copied numbers):
//   bun scripts/models-table.ts
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { scriptFlags } from '../src/cli/index.ts';

scriptFlags(
  "usage: bun scripts/models-table.ts   (prints the README's models table from the committed model.json files; no flags)",
);
const root = join(import.meta.dir, '..');
/** Each row: a committed model and, for hashed ones, its dense source and equal-parameter dense baseline. */
const rows: { name: string; dense?: string; baseline?: string }[] = [
  { name: 'mnist-mlp' },
  { name: 'mnist-lenet5' },
  { name: 'fashion-lenet5' },
  { name: 'mnist-mlp-h8', dense: 'mnist-mlp', baseline: 'baselines/mnist-mlp-eq-h8' },
  { name: 'mnist-mlp-h32', dense: 'mnist-mlp', baseline: 'baselines/mnist-mlp-eq-h32' },
  { name: 'mnist-mlp-h64', dense: 'mnist-mlp', baseline: 'baselines/mnist-mlp-eq-h64' },
  { name: 'mnist-lenet5-h8', dense: 'mnist-lenet5', baseline: 'baselines/mnist-lenet5-eq-h8' },
  {
    name: 'fashion-lenet5-h8',
    dense: 'fashion-lenet5',
    baseline: 'baselines/fashion-lenet5-eq-h8',
  },
  { name: 'mnist-lenet5-h8-converted', dense: 'mnist-lenet5' },
  { name: 'mnist-lenet5-h8-converted-ft10', dense: 'mnist-lenet5' },
  { name: 'cifar10-cnn' },
  { name: 'cifar10-cnn-h8', dense: 'cifar10-cnn' },
  { name: 'mnist-cnn' },
  { name: 'mnist-cnn-h8', dense: 'mnist-cnn' },
  { name: 'mnist-cnn-at' },
  { name: 'mnist-cnn-h8-at', dense: 'mnist-cnn-at' },
  { name: 'fashion-cnn-at' },
  { name: 'cifar10-cnn-at' },
  { name: 'cifar10-cnn-h8-at', dense: 'cifar10-cnn-at' },
  { name: 'mnist-cnn-ibp' },
  { name: 'mnist-cnn-h8-ibp', dense: 'mnist-cnn-ibp' },
];

type Manifest = {
  metrics: { testAccuracy: number };
  provenance: { command: string; secondsPerEpoch?: number; hash?: { compression: string } };
  layers: { type: string }[];
};
const read = (name: string): Manifest | null => {
  const f = join(root, 'models', name, 'model.json');
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : null;
};
const params = (name: string) => {
  const st = readFileSync(join(root, 'models', name, 'weights.safetensors'));
  const headerLen = Number(st.readBigUInt64LE(0));
  const header = JSON.parse(st.subarray(8, 8 + headerLen).toString('utf8'));
  return Object.entries(header)
    .filter(([k]) => k !== '__metadata__')
    .reduce((n, [, v]) => n + (v as { shape: number[] }).shape.reduce((a, b) => a * b, 1), 0);
};
const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

console.log(
  '| model | test accuracy | stored parameters | weights file | compression | equal-parameter dense baseline | command |',
);
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  const m = read(r.name);
  if (!m) continue;
  const p = params(r.name);
  const size = statSync(join(root, 'models', r.name, 'weights.safetensors')).size;
  const denseParams = r.dense ? params(r.dense) : p;
  // The --hash/--compression spec as given (one value, or one per weighted layer), then the stored ratio.
  const spec = m.provenance.hash?.compression ? `\`${m.provenance.hash.compression}\`: ` : '';
  const compression = r.dense
    ? `${spec}${(denseParams / p).toFixed(1)}× fewer (${p} / ${denseParams})`
    : '—';
  const b = r.baseline ? read(r.baseline) : null;
  const baseline =
    b && r.baseline
      ? `${pct(b.metrics.testAccuracy)} (${params(r.baseline)} params; \`${b.provenance.command}\`)`
      : '—';
  console.log(
    `| ${r.name} | ${pct(m.metrics.testAccuracy)} | ${p} | ${(size / 1024).toFixed(0)} KiB | ${compression} | ${baseline} | \`${m.provenance.command}\` |`,
  );
}

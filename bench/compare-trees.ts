// Before and after, side by side: the same hashguard workloads timed from this checkout and from another one (a
// worktree of an older commit), in the same process, interleaved round by round so machine drift weighs on both.
// Reports each workload's median time per call and the ratio head / base (1 = no change; > 1 = head slower).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { scriptFlags, usageExit } from '../src/cli/index.ts';
import { writeFileAtomic } from '../src/io/index.ts';
import { machineFacts } from './machine-facts.ts';
import { freshFile } from './fresh-file.ts';

const USAGE = `usage: bun bench/compare-trees.ts --base DIR [--rounds 9] [--out FILE]
  DIR: another checkout of hashguard (git worktree add DIR <commit>) whose node_modules resolve;
  every workload runs in one thread, in this process, from both trees' own src/ and models/.
  Writes bench/results/<date>-compare-<base commit>-<head commit>.json (or --out FILE).`;

const v = scriptFlags(USAGE, {
  base: { type: 'string' },
  rounds: { type: 'string' },
  out: { type: 'string' },
});
if (typeof v.base !== 'string') usageExit(USAGE, '--base DIR is required');
const rounds = Number(v.rounds ?? 9);
if (!Number.isInteger(rounds) || rounds < 3)
  usageExit(USAGE, `--rounds must be an integer of at least 3, got '${v.rounds}'`);
const head = resolve(import.meta.dir, '..'),
  base = resolve(v.base as string);
for (const path of [base, join(base, 'src', 'index.ts')])
  if (!existsSync(path)) usageExit(USAGE, `--base: ${path} does not exist`);

interface Tree {
  name: string;
  commit: string;
  api: any;
  load: (model: string) => Promise<any>;
}
async function tree(dir: string): Promise<Tree> {
  const api = await import(join(dir, 'src', 'index.ts'));
  // Older trees export loadModel from src/index.ts; newer ones from src/node.ts (the core stays runtime-free).
  const loader = existsSync(join(dir, 'src', 'node.ts'))
    ? (await import(join(dir, 'src', 'node.ts'))).loadModel
    : api.loadModel;
  const commit = execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD']).toString().trim();
  return { name: dir, commit, api, load: (m) => loader(join(dir, 'models', m)) };
}
const trees = [await tree(base), await tree(head)];

/** Deterministic inputs: the same bytes for both trees. */
const input = (n: number, per: number) =>
  Float32Array.from({ length: n * per }, (_, i) => ((i * 7919) % 1000) / 1000);
const labels = (n: number) => Float32Array.from({ length: n }, (_, i) => i % 10);

interface Workload {
  id: string;
  /** Builds the call for one tree. */
  make: (t: Tree) => Promise<() => void>;
}
const forward = (model: string, n: number): Workload => ({
  id: `${model}-forward-b${n}`,
  make: async (t) => {
    const net = (await t.load(model)).network;
    const per = net.inputShape.reduce((a: number, b: number) => a * b, 1);
    const x = new t.api.Tensor([n, ...net.inputShape], input(n, per));
    return () => t.api.noGrad(() => net.forward(x));
  },
});
const gradient = (model: string, n: number, want: 'input' | 'params'): Workload => ({
  id: `${model}-${want === 'input' ? 'input-gradient' : 'train-gradient'}-b${n}`,
  make: async (t) => {
    const net = (await t.load(model)).network;
    const per = net.inputShape.reduce((a: number, b: number) => a * b, 1);
    const x = new t.api.Tensor([n, ...net.inputShape], input(n, per));
    const y = new t.api.Tensor([n], labels(n));
    const loss = (z: any) => t.api.crossEntropyLoss(z, y);
    return () => net.lossGradients(x, loss, { [want]: true });
  },
});
const workloads: Workload[] = [
  forward('mnist-lenet5', 256),
  forward('mnist-mlp', 256),
  forward('mnist-lenet5', 1),
  forward('mnist-lenet5-h8', 256),
  gradient('mnist-lenet5', 64, 'params'),
  gradient('mnist-lenet5', 256, 'input'),
  gradient('mnist-cnn', 100, 'input'),
  forward('cifar10-cnn', 64),
  gradient('cifar10-cnn', 64, 'params'),
];

/** Milliseconds per call: as many calls as fill about 150 ms, after the calls that fit in 50 ms of warm-up. */
function time(call: () => void): number {
  const t0 = performance.now();
  let warm = 0;
  while (performance.now() - t0 < 50 || warm < 2) (call(), warm++);
  const per = (performance.now() - t0) / warm;
  const n = Math.max(3, Math.ceil(150 / per));
  const t1 = performance.now();
  for (let i = 0; i < n; i++) call();
  return (performance.now() - t1) / n;
}
const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y),
    m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const sig = (x: number) => Number(x.toPrecision(4));

const results: Record<string, { baseMs: number[]; headMs: number[] }> = {};
const calls = new Map<string, (() => void)[]>();
for (const w of workloads) calls.set(w.id, [await w.make(trees[0]), await w.make(trees[1])]);
for (let r = 0; r < rounds; r++) {
  for (const w of workloads) {
    const [b, h] = calls.get(w.id)!;
    const res = (results[w.id] ??= { baseMs: [], headMs: [] });
    // Alternate which tree goes first, so neither always runs on a warmer or cooler machine.
    if (r % 2 === 0) (res.baseMs.push(time(b)), res.headMs.push(time(h)));
    else (res.headMs.push(time(h)), res.baseMs.push(time(b)));
  }
  console.log(`round ${r + 1}/${rounds} done`);
}

const table = Object.entries(results).map(([id, { baseMs, headMs }]) => {
  const ratios = baseMs.map((b, i) => headMs[i] / b);
  return {
    id,
    baseMs: sig(median(baseMs)),
    headMs: sig(median(headMs)),
    // The median of the rounds' own ratios: each compares two runs seconds apart.
    ratio: sig(median(ratios)),
    roundRatios: ratios.map(sig),
  };
});
console.log(`\n${'workload'.padEnd(36)} base ms   head ms   head/base`);
for (const t of table)
  console.log(
    `${t.id.padEnd(36)} ${String(t.baseMs).padEnd(9)} ${String(t.headMs).padEnd(9)} ×${t.ratio}`,
  );
const report = {
  schema: 'hashguard-compare-trees/1',
  date: new Date().toISOString(),
  command: `bun bench/compare-trees.ts ${process.argv.slice(2).join(' ')}`,
  machine: machineFacts({ bun: Bun.version }),
  base: { commit: trees[0].commit },
  head: { commit: trees[1].commit },
  rounds,
  note: 'One thread, in-process; median time per call over rounds, and the median of the rounds own head/base ratios (> 1: head slower).',
  workloads: table,
};
const dir = join(head, 'bench', 'results');
mkdirSync(dir, { recursive: true });
const file =
  (v.out as string | undefined) ??
  freshFile(
    join(dir, `${report.date.slice(0, 10)}-compare-${trees[0].commit}-${trees[1].commit}.json`),
  );
await writeFileAtomic(file, JSON.stringify(report, null, 2) + '\n');
console.log(`wrote ${file}`);

// `bun run bench`: one run measures every peer on this machine at the same thread count, interleaved in rounds:
// hashguard (wasm kernels; 2 threads = its worker pool), onnxruntime-node on the ONNX file hashguard exports, and
// PyTorch (bench/peers/torch-peer.py building its modules from that same file) on the workloads of
// bench/workloads.ts; the median of the rounds, the ratios against the targets (bench/ratios.ts), and hashguard's
// throughput against batch size and threads (bench/scaling.ts, charted as SVG). Peers are checked to compute the
// same logits before anything is timed. Writes bench/results/<date>-<runtime>[-quick].json. Timings, no assertions.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import {
  number,
  progressFromFlags,
  scriptFlags,
  sourceRevision,
  useBackend,
  usageExit,
  withUsage,
} from '../src/cli/index.ts';
import { syntheticDataset } from '../src/data/index.ts';
import { loadModelDir, writeFileAtomic } from '../src/io/index.ts';
import { Sequential } from '../src/nn/index.ts';
import { machineFacts } from './machine-facts.ts';
import { exportOnnx } from '../src/onnx/index.ts';
import { HashguardRunner, type Images } from './peers/hashguard.ts';
import { checkParity, startPeers } from './peers/setup.ts';
import { computeRatios, type RoundFigures } from './ratios.ts';
import { runRounds } from './rounds.ts';
import { scalingSvg } from './scaling-chart.ts';
import { measureScaling, SCALING_BATCHES, SCALING_PAIRS, type ScalingPoint } from './scaling.ts';
import { BENCH_FLAGS, BENCH_USAGE } from './usage.ts';
import { buildWorkloads, workloadModels, workloadSpecs, type BenchContext } from './workloads.ts';
import { freshFile } from './fresh-file.ts';

const argv = process.argv.slice(2);
const flags = scriptFlags(BENCH_USAGE, BENCH_FLAGS, argv);
const quick = Boolean(flags.quick);
// `--backend webgpu`: the GPU-vs-CPU comparison (bench/webgpu.ts, which reads the same flags) instead of the CPU benchmark.
if (flags.backend === 'webgpu') {
  await import('./webgpu.ts');
  process.exit(0);
}
if (flags.backend !== undefined && flags.backend !== 'cpu')
  usageExit(BENCH_USAGE, `--backend: expected cpu or webgpu, got '${flags.backend}'`);
for (const gpuOnly of ['peak-gflops', 'peak-gbps'])
  if (flags[gpuOnly] !== undefined)
    usageExit(BENCH_USAGE, `--${gpuOnly} applies to --backend webgpu only`);
const rounds = withUsage(BENCH_USAGE, () =>
  number(flags, 'rounds', quick ? 1 : 5, { integer: true, min: 1, max: 100 }),
);
const warmupRounds = quick ? 0 : 1;
const backend = withUsage(BENCH_USAGE, () => useBackend('wasm'));
const t0 = performance.now();
const loadAtStart = loadavg().map((v) => Math.round(v * 100) / 100);
// Results on stdout (sink.print), notes on stderr (sink.log), and a progress bar per --progress.
const sink = withUsage(BENCH_USAGE, () => progressFromFlags(flags));
const log = (line: string) => sink.print(line);

// Models, inputs (synthetic, seeded: the same bytes for every peer) and the ONNX graph of each model a peer runs.
const nets = new Map<string, Sequential>();
for (const name of new Set([...workloadModels(quick), ...SCALING_PAIRS.flat()])) {
  const { manifest, tensors } = await loadModelDir(join(import.meta.dir, '../models', name));
  nets.set(name, new Sequential(manifest.input.shape, manifest.layers, tensors));
}
const mnist = syntheticDataset({
  count: quick ? 1024 : 4096,
  shape: [1, 28, 28],
  classes: 10,
  seed: 1,
});
const cifar = syntheticDataset({
  count: quick ? 256 : 1024,
  shape: [3, 32, 32],
  classes: 10,
  seed: 1,
});
const data = { mnist, cifar };
const peerModels = [
  ...new Set(
    workloadSpecs(quick).flatMap((s) =>
      [s.models.onnxruntime, s.models.torch].filter((m) => m !== undefined),
    ),
  ),
];
const graphs = new Map(
  peerModels.map((m) => {
    const n = nets.get(m)!;
    return [m, exportOnnx(n.layers, n.params, n.inputShape, n.numClasses)];
  }),
);
const dataOf = (model: string): Images => (nets.get(model)!.inputShape[0] === 3 ? cifar : mnist);

// onnxruntime-node is a devDependency; PyTorch comes from the system (bench:setup installs it) or is skipped with why.
const scratch = mkdtempSync(join(tmpdir(), 'hashguard-bench-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
const { ort, ortVersion, torch } = await startPeers({ data, graphs, scratch, log: sink.log });
// Same weights, same logits: every peer against hashguard before anything is timed (throws on a mismatch).
const parity = await checkParity({ nets, graphs, dataOf, ort, torch });
log(`parity (max |logit diff| vs hashguard): ${JSON.stringify(parity)}`);

const hashguard = new HashguardRunner();
const ctx: BenchContext = { quick, nets, graphs, data, hashguard, ort, torch };
const workloads = buildWorkloads(ctx);
const batches = quick ? [1, 16, 256] : SCALING_BATCHES;
const scalingPoints = flags['no-scaling'] ? 0 : SCALING_PAIRS.flat().length * batches.length * 2;
const measurements =
  (rounds + warmupRounds) * workloads.reduce((n, w) => n + w.contenders.length, 0);
const task = sink.task('bench', measurements + scalingPoints, 'measurements');
let done = 0;
const results = await runRounds(workloads, {
  rounds,
  warmupRounds,
  settleMs: quick ? 20 : 200,
  log,
  tick: () => task.update(++done),
});
const ratios = computeRatios(results as RoundFigures);

// hashguard alone: throughput against batch size and threads.
let scaling: ScalingPoint[] = [];
if (!flags['no-scaling'])
  scaling = await measureScaling({
    nets,
    data: dataOf,
    runner: hashguard,
    batches,
    minSeconds: quick ? 0 : 0.5,
    minCalls: quick ? 1 : 3,
    warmup: quick ? 1 : 3,
    onPoint: (p, k, total) => {
      log(
        `scaling ${k}/${total} ${p.model} batch ${p.batch} threads ${p.threads}: ${p.imagesPerSec.toLocaleString('en-US')} images/s`,
      );
      task.update(++done);
    },
  });
task.finish();
hashguard.close();
if (!('reason' in torch)) for (const v of torch.variants) await v.peer.close();

const torchInfo = 'reason' in torch ? null : torch.variants[0].peer.info;
const machine = machineFacts({
  onnxruntime: ortVersion,
  torch: torchInfo?.torch ?? null,
  python: torchInfo?.python ?? null,
  numpy: torchInfo?.numpy ?? null,
  onnx: torchInfo?.onnx ?? null,
});
const date = new Date().toISOString();
const stem = `${date.slice(0, 10)}-${machine.runtime.split(' ')[0]}${quick ? '-quick' : ''}`;
const dir = join(import.meta.dir, 'results');
mkdirSync(dir, { recursive: true });
// A second run on the same day writes -2 (then -3, …) beside the first, like the JSON: committed files stay.
const svgFile = freshFile(join(dir, `${date.slice(0, 10)}-scaling${quick ? '-quick' : ''}.svg`));
const stableSvg = join(import.meta.dir, '../docs/img/bench-scaling.svg');
if (scaling.length) {
  const svg = scalingSvg(
    scaling,
    `bun run bench, ${machine.cpu} (${machine.cores} cores), ${machine.runtime}, ${date.slice(0, 10)}${quick ? ' (--quick)' : ''}`,
  );
  await writeFileAtomic(svgFile, svg);
  // The README shows the stable copy; a --quick run's numbers mean little, so it never replaces it.
  if (!quick) {
    mkdirSync(join(stableSvg, '..'), { recursive: true });
    await writeFileAtomic(stableSvg, svg);
  }
}
const report = {
  schema: 'hashguard-bench/2',
  date,
  command: `bun run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
  quick,
  note:
    'Synthetic seeded inputs (src/data syntheticDataset) through the committed models; every peer gets the same bytes. ' +
    'hashguard runs the wasm backend: 1 thread = this thread, 2 threads = a WorkerPool of 2 (as train --threads 2). ' +
    'onnxruntime-node and PyTorch run the ONNX graph hashguard exports (hashed layers expanded); PyTorch builds nn ' +
    "modules from it in bench/peers/torch-peer.py. Each round runs every workload's contenders back to back (order " +
    'rotated per round); figures are medians over rounds; ratios are medians of per-round ratios. onnxruntime runs ' +
    'with spinning on and off and PyTorch with OpenMP wait policy default and PASSIVE each round; the faster counts, ' +
    'both are recorded under variants. Training: Adam, constant lr, mean cross-entropy, no augmentation. PGD: L-inf ' +
    'eps 0.3, step 0.01, 40 steps from the clean input, summed cross-entropy; image-steps/s = batch*40/seconds. ' +
    'PGD-AT: pgd:eps=0.3,steps=40,step=0.01 as train --adversarial makes it (uniform start), then the training step; ' +
    'epochSeconds scales the measured batches to one epoch of 60,000 images.',
  machine: {
    ...machine,
    loadAverageAtStart: loadAtStart,
    torchBlas: torchInfo?.blas ?? null,
    torchParallel: torchInfo?.parallel ?? null,
  },
  source: sourceRevision(),
  settings: {
    backend: backend.name,
    rounds,
    warmupRounds,
    threads: 2,
    latencyThreads: 1,
    rotation: 'contender order rotates by one per round',
  },
  peers: {
    hashguard: { backend: backend.name },
    onnxruntime:
      'reason' in ort
        ? { skipped: ort.reason }
        : { version: ortVersion, configurations: ['spinning', 'no-spinning'] },
    torch:
      'reason' in torch
        ? { skipped: torch.reason }
        : { ...torchInfo, configurations: torch.variants.map((v) => v.name) },
  },
  parity,
  workloads: workloads.map((w) => ({
    id: w.id,
    title: w.title,
    metric: w.metric,
    unit: w.unit,
    better: w.metric === 'latency' ? 'lower' : 'higher',
    threads: w.threads,
    batch: w.batch,
    settings: w.settings,
    results: Object.fromEntries(
      Object.entries(results[w.id]).map(([peer, r]) => [
        peer,
        'rounds' in r && w.settings.epochImages
          ? {
              ...r,
              epochSeconds: Math.round(((w.settings.epochImages as number) / r.median) * 10) / 10,
            }
          : r,
      ]),
    ),
  })),
  ratios,
  scaling: {
    batches,
    threads: [1, 2],
    unit: 'images/s',
    points: scaling,
    chart: scaling.length ? relative(join(import.meta.dir, '..'), svgFile) : null,
  },
  loadAverageAtEnd: loadavg().map((v) => Math.round(v * 100) / 100),
  wallSeconds: Math.round((performance.now() - t0) / 100) / 10,
};
const file = freshFile(join(dir, `${stem}.json`));
await writeFileAtomic(file, JSON.stringify(report, null, 2) + '\n');
log('');
for (const [key, r] of Object.entries(ratios))
  log(
    `${key.padEnd(32)} ${r.value === null ? `n/a (${r.reason})` : `${r.value} (target ${r.target}: ${r.pass ? 'met' : 'missed'})`}`,
  );
log(`wrote ${file}${scaling.length ? ` and ${svgFile}` : ''}`);

// `bun run bench:train`: what adversarial training costs on this machine. The time per training step of
// mnist-cnn (small-cnn on MNIST, batch 100, Adam) for clean, FGSM-RS, PGD-40 and TRADES-40 training, measured
// side by side in one run with the same thread count, alternated over rounds (clean, fgsm-rs, pgd, trades,
// clean, …) so that drift on a shared machine hits every method alike; the median per method, the
// extrapolated time per 550-step epoch, each method's ratio to clean next to its theoretical pass count, and
// the target "an fgsm-rs epoch costs at most 2.5× a clean epoch". Writes bench/results/<date>-train-cost-<runtime>.json.
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import {
  machineInfo,
  sourceRevision,
  useBackend,
  defaultValidationRows,
  splitValidation,
  number,
  progressFromFlags,
  progressOptions,
  progressUsage,
  scriptFlags,
  withUsage,
  threadsFlag,
  withWorkers,
} from '../src/cli/index.ts';
import { loadMnist } from '../src/data/node.ts';
import { subset, type Dataset } from '../src/data/index.ts';
import { writeFileAtomic } from '../src/io/index.ts';
import {
  formatAdversarial,
  parseAdversarial,
  type AdversarialSpec,
  smallCnn,
  initParams,
  adam,
  Sequential,
} from '../src/nn/index.ts';
import { epochOrder, trainEpoch, type GradientWorkers } from '../src/nn/train.ts';
import { freshFile } from './fresh-file.ts';

const USAGE = `usage: bun run bench:train -- [--quick] [--threads N] [--steps S] [--rounds R]   (or: bun bench/train-cost.ts …)
  Seconds per training step and per 550-step epoch of mnist-cnn (small-cnn, MNIST, batch 100, Adam): clean,
  fgsm-rs:eps=0.3, pgd:eps=0.3,steps=40,step=0.01 and trades:eps=0.3,steps=40,beta=6, alternated over rounds
  (median per method); ratios to clean and the target fgsm-rs <= 2.5x clean. Writes
  bench/results/<date>-train-cost-<runtime>[-quick].json.
  --threads N   gradient workers per step (default: every logical core; 1 = this thread, no pool)
  --steps S     timed steps per method and round, after one warm-up step (default 20; --quick 5)
  --rounds R    rounds of the four methods (default 3; --quick 2)
  --quick       5 steps, 2 rounds (a smoke test; the numbers mean little)
${progressUsage}`;

const argv = process.argv.slice(2);
const flags = scriptFlags(
  USAGE,
  {
    quick: { type: 'boolean' },
    threads: { type: 'string' },
    steps: { type: 'string' },
    rounds: { type: 'string' },
    ...progressOptions,
  },
  argv,
);
const quick = Boolean(flags.quick);
const steps = withUsage(USAGE, () =>
  number(flags, 'steps', quick ? 5 : 20, { integer: true, min: 1, max: 550 }),
);
const rounds = withUsage(USAGE, () =>
  number(flags, 'rounds', quick ? 2 : 3, { integer: true, min: 1, max: 50 }),
);
// Workers run the wasm kernels, so the comparison runs on wasm in this thread too (--threads 1).
const backend = withUsage(USAGE, () => useBackend('wasm'));
const threads = withUsage(USAGE, () => threadsFlag(flags, backend));
// Results on stdout; progress (one unit per measured method and round, and the warm-up) on stderr.
const sink = withUsage(USAGE, () => progressFromFlags(flags));

const BATCH = 100,
  SEED = 1,
  TARGET_FGSM_RATIO = 2.5;
interface Method {
  name: string;
  spec?: AdversarialSpec;
  passesPerStep: number;
  passes: string;
}
const METHODS: Method[] = [
  { name: 'clean', passesPerStep: 1, passes: '1 forward+backward' },
  {
    name: 'fgsm-rs',
    spec: parseAdversarial('fgsm-rs:eps=0.3'),
    passesPerStep: 2,
    passes: '1 input-gradient step + the training pass',
  },
  {
    name: 'pgd',
    spec: parseAdversarial('pgd:eps=0.3,steps=40,step=0.01'),
    passesPerStep: 41,
    passes: '40 input-gradient steps + the training pass',
  },
  {
    name: 'trades',
    spec: parseAdversarial('trades:eps=0.3,steps=40,beta=6'),
    passesPerStep: 42,
    passes:
      "40 KL input-gradient steps + the clean forward + the training pass (over [x; x'], twice the rows)",
  },
];
const round = (v: number, d = 3) => Math.round(v * 10 ** d) / 10 ** d;
const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b),
    m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// MNIST's training split less the 5,000 held-out validation rows `train` keeps back: 55,000 rows, 550 steps.
const mnist = await loadMnist();
const { train } = splitValidation(mnist.train, defaultValidationRows(mnist.train.count));
const stepsPerEpoch = Math.ceil(train.count / BATCH);
// The rows epoch 0 of a run with this seed visits first: one warm-up batch, then `steps` timed batches. Every
// method trains on the same rows, in the same order (trainEpoch's shuffle is seeded).
const order = epochOrder(SEED, 0, train.count);
const warmRows: Dataset = subset(train, order.subarray(0, BATCH));
const timedRows: Dataset = subset(train, order.subarray(BATCH, BATCH * (steps + 1)));
const layers = smallCnn(train.shape, train.classes.length);
const initial = initParams(layers, SEED);

/** Seconds per step of `steps` training steps of `method` from the initial weights, after one warm-up step. */
async function secondsPerStep(
  method: Method,
  workers: GradientWorkers | undefined,
): Promise<number> {
  // A fresh model and optimizer each time: every measurement starts from the same weights and Adam state.
  const model = new Sequential(train.shape, layers, new Map(initial));
  const opt = adam();
  const opts = {
    epochs: 1,
    batchSize: BATCH,
    seed: SEED,
    schedule: 'constant' as const,
    workers,
    ...(method.spec ? { adversarial: method.spec } : {}),
  };
  await trainEpoch(model, opt, warmRows, opts, 0);
  const r = await trainEpoch(model, opt, timedRows, opts, 0);
  return r.seconds / steps;
}

console.log(
  `mnist-cnn (small-cnn ${layers.filter((l) => l.type === 'conv2d' || l.type === 'dense').length} weighted layers), ${train.count} training rows = ${stepsPerEpoch} steps of ${BATCH}; ` +
    `${backend.name}, ${threads} thread${threads > 1 ? 's (worker pool)' : ' (in-process)'}; ${steps} timed steps per method and round, ${rounds} rounds`,
);
const loadAtStart = loadavg().map((v) => round(v, 2));
const t0 = performance.now();
const perRound = new Map<string, number[]>(METHODS.map((m) => [m.name, []]));
const progress = sink.task('bench:train', 1 + rounds * METHODS.length, 'measurements');
let measured = 0;
await withWorkers(threads, async (workers) => {
  // The workers start cold (their wasm tiers up over the first calls): a few untimed clean steps first, so the
  // first round's clean figure is not the coldest of the run.
  await secondsPerStep(METHODS[0], workers);
  progress.update(++measured, { detail: 'warm-up' });
  for (let r = 0; r < rounds; r++) {
    const line: string[] = [];
    for (const m of METHODS) {
      const s = await secondsPerStep(m, workers);
      perRound.get(m.name)!.push(s);
      line.push(`${m.name} ${s.toFixed(3)}`);
      progress.update(++measured, {
        fields: { round: r + 1, method: m.name, secondsPerStep: s },
        detail: `round ${r + 1}/${rounds} ${m.name}`,
        force: true,
      });
    }
    sink.print(`round ${r + 1}/${rounds}: s/step ${line.join(', ')}`);
  }
});
progress.finish();
const wallSeconds = (performance.now() - t0) / 1000;

const cleanMedian = median(perRound.get('clean')!);
const methods = METHODS.map((m) => {
  const times = perRound.get(m.name)!;
  const s = median(times);
  return {
    method: m.name,
    spec: m.spec ? formatAdversarial(m.spec) : null,
    passesPerStep: m.passesPerStep,
    passes: m.passes,
    secondsPerStepMedian: round(s, 4),
    secondsPerEpoch: round(s * stepsPerEpoch, 1),
    ratioToClean: round(s / cleanMedian, 2),
    passRatioToClean: m.passesPerStep,
    secondsPerStepByRound: times.map((t) => round(t, 4)),
    // Each round's ratio to that round's clean figure: how much the drift moved the ratio.
    ratioToCleanByRound: times.map((t, i) => round(t / perRound.get('clean')![i], 2)),
  };
});
const fgsm = methods.find((m) => m.method === 'fgsm-rs')!;
const target = {
  statement: `an fgsm-rs epoch costs at most ${TARGET_FGSM_RATIO} times a clean epoch`,
  maxRatio: TARGET_FGSM_RATIO,
  measuredRatio: fgsm.ratioToClean,
  pass: fgsm.ratioToClean <= TARGET_FGSM_RATIO,
};

const pad = (s: string | number, n: number) => String(s).padStart(n);
console.log('');
console.log(
  `${'method'.padEnd(8)} ${pad('passes', 6)} ${pad('s/step', 8)} ${pad('s/epoch', 8)} ${pad('x clean', 8)} ${pad('x passes', 8)}   s/step by round`,
);
for (const m of methods) {
  console.log(
    `${m.method.padEnd(8)} ${pad(m.passesPerStep, 6)} ${pad(m.secondsPerStepMedian.toFixed(4), 8)} ${pad(m.secondsPerEpoch.toFixed(1), 8)} ${pad(m.ratioToClean.toFixed(2), 8)} ${pad(m.passRatioToClean, 8)}   ${m.secondsPerStepByRound.map((t) => t.toFixed(4)).join(' ')}`,
  );
}
console.log(
  `\ntarget: ${target.statement}: ${target.pass ? 'PASS' : 'FAIL'} (measured ${target.measuredRatio.toFixed(2)}x, median of ${rounds} round${rounds > 1 ? 's' : ''}${quick ? '; --quick: the numbers mean little' : ''})`,
);

const machine = machineInfo();
const report = {
  date: new Date().toISOString(),
  command: `bun run bench:train${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
  note:
    `mnist-cnn = small-cnn (conv 16 4x4 s2 p1, conv 32 4x4 s2 p1, dense 100, dense 10) on MNIST's ${train.count} training rows (60,000 less the 5,000 ` +
    `validation rows train holds out), batch ${BATCH}, Adam (lr 1e-3), full eps (no ramp), trainEpoch as train runs it (gradients on the worker pool ` +
    `when threads > 1). Per method and round: fresh weights (seed ${SEED}) and optimizer, one untimed warm-up step, then ${steps} timed steps on the ` +
    `same rows (epoch 0's first ${BATCH * (steps + 1)} rows of the seed-${SEED} shuffle) for every method. Methods alternate within each round; ` +
    `figures are the median over rounds. secondsPerEpoch = median s/step x ${stepsPerEpoch} steps: the training steps only, not the per-epoch ` +
    'validation accuracy or the PGD-20 robust check that train adds after each adversarial epoch. passesPerStep counts forward+backward passes ' +
    "over the batch (fgsm-rs 2, pgd 41, trades 42 including its clean forward and the final pass over [x; x'] counted once).",
  machine,
  source: sourceRevision(),
  loadAverageAtStart: loadAtStart,
  loadAverageAtEnd: loadavg().map((v) => round(v, 2)),
  settings: {
    model: 'mnist-cnn',
    arch: 'small-cnn',
    dataset: 'mnist',
    trainRows: train.count,
    batchSize: BATCH,
    stepsPerEpoch,
    optimizer: 'adam',
    lr: 1e-3,
    seed: SEED,
    backend: backend.name,
    threads,
    timedStepsPerMethodAndRound: steps,
    warmupStepsPerMeasurement: 1,
    rounds,
    quick,
  },
  methods,
  target,
  wallSeconds: round(wallSeconds, 1),
};
const dir = join(import.meta.dir, 'results');
mkdirSync(dir, { recursive: true });
const file = freshFile(
  join(
    dir,
    `${report.date.slice(0, 10)}-train-cost-${machine.runtime.split(' ')[0]}${quick ? '-quick' : ''}.json`,
  ),
);
await writeFileAtomic(file, JSON.stringify(report, null, 2) + '\n');
console.log(`wrote ${file}`);

// Prints the README's benchmark tables (Markdown) from a bench/results JSON file written by `bun run bench`:
//   bun scripts/bench-table.ts bench/results/2026-11-25-bun.json
import { readFileSync } from 'node:fs';
import { scriptArgs, usageExit } from '../src/cli/index.ts';

const USAGE =
  "usage: bun scripts/bench-table.ts bench/results/<file>.json   (prints the README's benchmark tables from a `bun run bench` result)";
const { positionals } = scriptArgs(USAGE, {}, { positionals: true });
if (positionals.length !== 1)
  usageExit(USAGE, `expected one results file, got ${positionals.length}`);
const file = positionals[0];
const r = JSON.parse(readFileSync(file, 'utf8'));
const k = (v: number) => (v >= 10000 ? `${(v / 1000).toFixed(1)}k` : String(v));
const lines: string[] = [];
lines.push(
  `\`${r.command}\` on ${r.machine.cpu} (${r.machine.cores} cores), ${r.machine.runtime}, ${r.date.slice(0, 10)}; written to \`${file}\`.`,
);
lines.push(
  '',
  'One thread, in-process (batch-256 inference runs the compiled chain on cpu-wasm-simd):',
  '',
);
lines.push(
  '| backend | model | batch-1 latency | batch-256 inference | training (batch 64) |',
  '|---|---|---|---|---|',
);
for (const x of r.singleThread)
  lines.push(
    `| ${x.backend} | ${x.model} | ${x.inferBatch1LatencyMs} ms | ${k(x.inferBatch256ImagesPerSec)} img/s | ${k(x.trainBatch64ImagesPerSec)} img/s |`,
  );
lines.push(
  '',
  'Worker pool (cpu-wasm-simd in each worker), against onnxruntime-node on the same weights:',
  '',
);
lines.push(
  '| runtime | threads | model | batch-1 latency | batch-256 inference | training (batch 64) | PGD-40 (batch 256) |',
  '|---|---|---|---|---|---|---|',
);
for (const x of r.pooled)
  lines.push(
    `| hashguard pool | ${x.threads} | ${x.model} | ${x.inferBatch1LatencyMs} ms | ${k(x.inferBatch256ImagesPerSec)} img/s | ${k(x.trainBatch64ImagesPerSec)} img/s | ${k(x.pgd40Batch256ImageStepsPerSec)} image-steps/s |`,
  );
for (const x of r.onnxruntime)
  lines.push(
    `| ${x.runtime}${x.spinning ? '' : ' (no spinning)'} | ${x.threads} | ${x.model} | ${x.inferBatch1LatencyMs} ms | ${k(x.inferBatch256ImagesPerSec)} img/s | — | — |`,
  );
lines.push(
  '',
  `In-process (no pool) PGD-40 on mnist-lenet5: ${k(r.pgdInProcessLenet5ImageStepsPerSec)} image-steps/s.`,
);
lines.push(
  '',
  'Attack throughput per backend (mnist-lenet5, one thread, in-process):',
  '',
  '| backend | PGD-40 (batch 256) | Square (100 images) |',
  '|---|---|---|',
);
for (const x of r.singleThread.filter(
  (x: { pgd40ImageStepsPerSec?: number }) => x.pgd40ImageStepsPerSec,
))
  lines.push(
    `| ${x.backend} | ${k(x.pgd40ImageStepsPerSec)} image-steps/s | ${k(x.squareQueriesPerSec)} queries/s |`,
  );
if (r.lenet5InferInterleaved?.length) {
  lines.push(
    '',
    'LeNet-5 batch-256 inference, 2 threads, measured interleaved (each round: the pool, then onnxruntime, back to back):',
    '',
  );
  lines.push('| round | hashguard pool | onnxruntime-node | ratio |', '|---|---|---|---|');
  r.lenet5InferInterleaved.forEach(
    (
      x: { hashguardImagesPerSec: number; onnxruntimeImagesPerSec: number; ratio: number },
      i: number,
    ) =>
      lines.push(
        `| ${i + 1} | ${k(x.hashguardImagesPerSec)} img/s | ${k(x.onnxruntimeImagesPerSec)} img/s | ${x.ratio}× |`,
      ),
  );
}
lines.push('', '| target (2 threads) | measured | ratio |', '|---|---|---|');
const ratios = r.ratios;
const pool2 = (m: string) =>
  r.pooled.find((x: { threads: number; model: string }) => x.threads === 2 && x.model === m);
lines.push(
  `| LeNet-5 batch-256 inference ≥ 0.5× onnxruntime | ${k(pool2('mnist-lenet5').inferBatch256ImagesPerSec)} img/s | ${ratios.lenet5InferVsOnnxruntime2Threads ?? 'n/a'}× onnxruntime (tables above); ${ratios.lenet5InferVsOnnxruntime2ThreadsInterleavedMedian ?? 'n/a'}× (interleaved median) |`,
);
lines.push(
  `| LeNet-5 training ≥ 12k img/s (PyTorch) | ${k(pool2('mnist-lenet5').trainBatch64ImagesPerSec)} img/s | ${ratios.lenet5TrainVsPytorch12k}× |`,
);
lines.push(
  `| 40-step PGD on LeNet-5 ≥ 12k image-steps/s (PyTorch) | ${k(pool2('mnist-lenet5').pgd40Batch256ImageStepsPerSec)} image-steps/s | ${ratios.lenet5PgdVsPytorch12k}× |`,
);
lines.push(
  '',
  'Hashed versus dense (cpu-wasm-simd, one thread; ratio > 1 means the hashed model is faster, latency < 1 likewise):',
  '',
);
lines.push(
  '| hashed / dense | batch-256 inference | batch-1 latency | training |',
  '|---|---|---|---|',
);
for (const x of r.hashedVsDense)
  lines.push(
    `| ${x.hashed} / ${x.dense} | ${x.inferBatch256Ratio}× | ${x.inferBatch1LatencyRatio}× | ${x.trainBatch64Ratio}× |`,
  );
lines.push(
  '',
  'HashedNets CPU strategy (batch 1): virtual weight materialized once vs rebuilt on every call:',
  '',
);
lines.push('| model | cached | rebuilt every call | slowdown |', '|---|---|---|---|');
for (const x of r.hashedStrategy)
  lines.push(
    `| ${x.model} | ${x.batch1CachedMs} ms | ${x.batch1RebuiltEveryCallMs} ms | ${x.slowdownIfRebuilt}× |`,
  );
console.log(lines.join('\n'));

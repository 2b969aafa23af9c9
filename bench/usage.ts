// The flags of `bun run bench` (bench/run.ts), shared with bench/webgpu.ts, which `--backend webgpu` runs with
// the same command line (and which also runs alone: bun bench/webgpu.ts).
import { progressOptions, progressUsage } from '../src/cli/index.ts';

export const BENCH_FLAGS = {
  ...progressOptions,
  quick: { type: 'boolean' },
  rounds: { type: 'string' },
  'no-scaling': { type: 'boolean' },
  backend: { type: 'string' },
  'peak-gflops': { type: 'string' },
  'peak-gbps': { type: 'string' },
} as const;

export const BENCH_USAGE = `usage: bun run bench -- [--quick] [--rounds N] [--no-scaling] [--backend cpu|webgpu …]   (or: bun bench/run.ts …)
  hashguard, onnxruntime-node and PyTorch (python3-torch; bun run bench:setup) on the same weights and threads,
  interleaved in rounds (median); ratios vs the targets; throughput vs batch and threads (an SVG chart). Writes
  bench/results/<date>-<runtime>[-quick].json and <date>-scaling[-quick].svg (full runs: docs/img/bench-scaling.svg).
  --rounds N      measured rounds after one warm-up round (default 5; --quick 1, no warm-up round)
  --no-scaling    skip the batch/threads scaling sweep
  --quick         every workload once with tiny counts (a smoke test; the numbers mean little)
  --backend webgpu  WebGPU against the wasm CPU backend instead (bench/webgpu.ts; --peak-gflops G --peak-gbps B)
${progressUsage}`;

// The flags of `bun run bench` (bench/run.ts), shared with bench/webgpu.ts, which `--backend webgpu` runs with
// the same command line (and which also runs alone: bun bench/webgpu.ts).
export const BENCH_FLAGS = {
  quick: { type: 'boolean' },
  backend: { type: 'string' },
  'peak-gflops': { type: 'string' },
  'peak-gbps': { type: 'string' },
} as const;

export const BENCH_USAGE = `usage: bun run bench -- [--quick] [--backend cpu|webgpu [--peak-gflops G] [--peak-gbps B]]   (or: bun bench/run.ts …)
  CPU speed of the committed MNIST models (each backend, the worker pool, onnxruntime-node when installed,
  hashed vs dense); writes bench/results/<date>-<runtime>[-quick].json.
  --quick         fewer repetitions (a smoke test; the numbers mean little)
  --backend webgpu  WebGPU against the wasm CPU backend instead (bench/webgpu.ts): bench/results/<date>-webgpu-<adapter>.json;
                  --peak-gflops / --peak-gbps: the GPU's peak, to report the hashed kernel's fraction of it`;

// The --threads flag of train and convert: how many workers compute each step's gradients (data-parallel).
// Default: every logical core. 1 keeps the whole run in this thread (any backend).
import { machineThreads, WorkerPool } from '../parallel/index.ts';
import type { Backend } from '../tensor/index.ts';
import { number, UsageError } from './args.ts';

export function threadsFlag(v: Record<string, unknown>, backend: Backend): number {
  // Workers run wasm kernels: other backends (reference, webgpu) default to this one thread.
  const threads = number(v, 'threads', backend.name === 'cpu-wasm-simd' ? machineThreads() : 1, {
    integer: true,
    min: 1,
    max: 256,
  });
  if (threads > 1 && backend.name !== 'cpu-wasm-simd') {
    throw new UsageError(
      `--threads ${threads}: worker threads run the wasm backend; use --threads 1 with --backend ${backend.name}`,
    );
  }
  return threads;
}

/** Runs fn with a pool of `threads` workers (none when 1), closing it afterwards whatever happens. */
export async function withWorkers<T>(
  threads: number,
  fn: (pool: WorkerPool | undefined) => Promise<T>,
): Promise<T> {
  const pool = threads > 1 ? new WorkerPool({ size: threads }) : undefined;
  try {
    return await fn(pool);
  } finally {
    pool?.close();
  }
}

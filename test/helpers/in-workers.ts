// Heavy test evaluations side by side on every core: each job calls one exported function of a module in a
// worker of its own (job-worker.ts), at most machineThreads() at a time; a test awaits its own job's promise.
import { machineThreads } from '../../src/parallel/index.ts';

/** One call of `fn` from `module` (a file URL) in a fresh worker. */
function inWorker<A, R>(module: string, fn: string, args: A, label: string): Promise<R> {
  const w = new Worker(new URL('./job-worker.ts', import.meta.url).href);
  return new Promise<R>((resolve, reject) => {
    w.onmessage = (e: MessageEvent) => {
      const m = e.data as { result?: R; error?: string };
      if ('result' in m) resolve(m.result as R);
      else reject(new Error(`worker (${label}): ${m.error}`));
    };
    w.onerror = (e) => reject(new Error(`worker (${label}) failed: ${e.message}`));
    w.postMessage({ module, fn, args });
  }).finally(() => w.terminate());
}

/**
 * Starts fn(args) for every job in lanes of machineThreads() workers, in the jobs' order, and returns each job's
 * promise, index for index (a failure rejects only its own, for its test to report).
 */
export function startInWorkers<A, R>(
  module: string,
  fn: string,
  jobs: readonly A[],
  label: (a: A) => string,
): Promise<R>[] {
  const start: (() => void)[] = [];
  const running = jobs.map((job, i) => {
    const p = new Promise<void>((r) => (start[i] = r)).then(() =>
      inWorker<A, R>(module, fn, job, label(job)),
    );
    p.catch(() => {}); // reported by the job's own test
    return p;
  });
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < jobs.length; i = next++) {
      start[i]();
      await running[i].catch(() => {});
    }
  };
  for (let i = 0; i < Math.min(machineThreads(), jobs.length); i++) void lane();
  return running;
}

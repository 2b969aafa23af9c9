// Where inference runs. The default runs every request whole on the least busy worker of a WorkerPool, so
// the request thread only parses, schedules and answers; the in-process executor is for tests and tools.
import type { Sequential } from '../nn/index.ts';
import {
  runDefended,
  type DefendedInput,
  type DefendedResult,
  type RandomDraw,
  machineThreads,
  WorkerPool,
} from '../parallel/index.ts';

export type { DefendedInput, DefendedResult, RandomDraw };

export interface InferenceExecutor {
  /** Requests it runs at once; the scheduler dispatches no more and queues the rest. */
  readonly concurrency: number;
  /** False once it can no longer run anything (a worker died): readiness turns 503. */
  readonly healthy: boolean;
  /**
   * One request's defended logits (or a client error for an undecodable image). With `early`, the fingerprints
   * the input asks for are handed to it before the model runs (the detector matches them meanwhile) and the
   * result carries none.
   */
  run(
    network: Sequential,
    input: DefendedInput,
    random: RandomDraw | null,
    early?: (fingerprints: Uint32Array[]) => void,
  ): Promise<DefendedResult>;
  close(): void | Promise<void>;
}

/** A worker pool executor: `size` workers (default: logical cores), one request per worker at a time. */
export function workerExecutor(
  options: { size?: number; pool?: WorkerPool } = {},
): InferenceExecutor {
  const pool = options.pool ?? new WorkerPool({ size: options.size ?? machineThreads() });
  const busy = new Array<number>(pool.size).fill(0);
  let healthy = true;
  return {
    concurrency: pool.size,
    get healthy() {
      return healthy;
    },
    async run(network, input, random, early) {
      // Least busy worker; the scheduler keeps in-flight ≤ size, so this is normally an idle one.
      const w = busy.indexOf(Math.min(...busy));
      busy[w]++;
      try {
        return await pool.defendedForward(network, input, random, w, early);
      } catch (e) {
        // The pool fails for good when a worker dies or it was closed: stop claiming readiness.
        if (/^WorkerPool: (a worker failed|closed)/.test((e as Error).message)) healthy = false;
        throw e;
      } finally {
        busy[w]--;
      }
    },
    close: () => pool.close(),
  };
}

/**
 * Runs on the calling thread (tests, single-shot tools). NOTE: compute blocks the event loop, so deadlines
 * cannot interrupt it; never the serving default.
 */
export function inProcessExecutor(concurrency = 1): InferenceExecutor {
  return {
    concurrency,
    healthy: true,
    async run(network, input, random, early) {
      await Promise.resolve(); // answer asynchronously, like a worker, so callers never see a sync throw
      return runDefended(network, input, random, early);
    },
    close() {},
  };
}

// `hashguard worker --queue redis://HOST`: takes audit jobs from the queue a coordinator (`audit --queue`) filled,
// one at a time, on any number of machines; each job runs in a thread (audit-job-thread.ts). Ctrl-C or SIGTERM
// finishes the job under way, then stops; a worker killed outright loses nothing: its job goes back on the queue.
import type { Job } from 'bullmq';
import type { JobResult } from '../audit/index.ts';
import { flags, number, parse, requireString, UsageError } from './args.ts';
import { connectionOf, DEFAULT_QUEUE_NAME, type QueuedJob } from './audit-queue.ts';
import type { ThreadReply, ThreadRequest } from './audit-job-thread.ts';
import { progressFromFlags, progressOptions, progressUsage } from './progress.ts';
import { onInterrupt, processId, startWorker } from '../runtime/index.ts';

export const workerUsage = `usage: bun run worker -- --queue redis://HOST[:PORT][/DB] [--queue-name ${DEFAULT_QUEUE_NAME}] [--lock-seconds 30]
  Runs the jobs of distributed audits (bun run audit -- ... --queue redis://HOST) until Ctrl-C or SIGTERM, which
  finish the job under way first. Every worker needs the coordinator's models and data at the same paths (a checkout
  of the same repository); a job whose audit differs here (other weights, other data) fails with both settings.
  --lock-seconds: how long a job stays claimed without word from its worker; a worker killed outright has its job
  back on the queue after about that long (the other workers look for such jobs as often).
${progressUsage}`;

/**
 * audit-job-thread.ts beside this file; in the npm package both are bundled into dist/lib/ as .js files. The single
 * executable holds the whole command in one file of its embedded file system ($bunfs): the thread is that file
 * again, whose entry (main.ts) runs the job loop when it finds itself in a worker thread.
 */
function jobThreadUrl(): URL {
  if (import.meta.url.includes('/$bunfs/')) return new URL(import.meta.url);
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  return new URL(`./audit-job-thread.${ext}`, import.meta.url);
}

export async function workerCommand(argv: string[]): Promise<void> {
  const v = parse(argv, {
    ...flags('queue queue-name lock-seconds'),
    ...progressOptions,
  });
  const url = requireString(v, 'queue');
  let connection: ReturnType<typeof connectionOf>;
  try {
    connection = connectionOf(url);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const name = (v['queue-name'] as string | undefined) ?? DEFAULT_QUEUE_NAME;
  const lockMs = 1000 * number(v, 'lock-seconds', 30, { min: 1, max: 3600 });
  const sink = progressFromFlags(v);
  const { Worker } = await import('bullmq'); // loaded by this command only
  const thread = startWorker(jobThreadUrl());
  type Answer = Exclude<ThreadReply, { ready: true }>;
  const pending = new Map<number, (r: Answer) => void>();
  let nextId = 1;
  let threadFailure: string | null = null;
  let threadDied = () => {};
  let ready: (ok: boolean) => void = () => {};
  const started = new Promise<boolean>((resolve) => (ready = resolve));
  thread.onmessage = (e) => {
    const reply = e.data as ThreadReply;
    if ('ready' in reply) return ready(true);
    pending.get(reply.id)?.(reply);
    pending.delete(reply.id);
  };
  thread.onerror = (e) => {
    e.preventDefault?.();
    threadFailure = e.message || 'unknown error';
    ready(false);
    for (const settle of pending.values())
      settle({ id: 0, error: `job thread failed: ${threadFailure}` });
    pending.clear();
    threadDied();
  };
  // A thread that cannot load (a build without its script) is reported before any job is taken.
  if (!(await started)) {
    thread.terminate();
    throw new Error(`the audit job thread could not start: ${threadFailure}`);
  }
  const inThread = (data: QueuedJob) =>
    new Promise<Answer>((resolve) => {
      if (threadFailure) return resolve({ id: 0, error: `job thread failed: ${threadFailure}` });
      const id = nextId++;
      pending.set(id, resolve);
      thread.postMessage({ id, data } satisfies ThreadRequest);
    });
  const worker = new Worker<QueuedJob, JobResult>(
    name,
    async (job: Job<QueuedJob, JobResult>) => {
      const t0 = performance.now();
      sink.log(`job ${job.name} started (attempt ${job.attemptsMade + 1}, pid ${processId()})`);
      const reply = await inThread(job.data);
      if ('error' in reply) {
        sink.log(`job ${job.name} failed: ${reply.error}`);
        throw new Error(reply.error);
      }
      sink.log(`job ${job.name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      return reply.result;
    },
    {
      connection,
      concurrency: 1,
      lockDuration: lockMs,
      // Stalled jobs (a worker killed outright) are looked for as often as a lock lasts, and may come back twice.
      stalledInterval: lockMs,
      maxStalledCount: 2,
    },
  );
  worker.on('error', (e) => sink.log(`queue ${name}: ${e.message}`));
  await worker.waitUntilReady().catch((e: unknown) => {
    thread.terminate();
    throw new Error(`queue ${url}: ${(e as Error).message}`);
  });
  sink.log(
    `worker on queue ${name} at ${url} (pid ${processId()}); Ctrl-C stops after the job under way`,
  );
  await new Promise<void>((resolve, reject) => {
    const stop = () =>
      worker.close().finally(() => {
        dispose();
        thread.terminate();
      });
    const dispose = onInterrupt((signal) => {
      sink.log(`${signal}: finishing the job under way, then stopping`);
      void stop().then(resolve);
    });
    // A thread that died (out of memory, say) would fail every job it was given: this worker stops instead, once
    // the job under way is recorded as failed (it is retried elsewhere), and exits non-zero for a supervisor.
    threadDied = () => {
      void stop().then(() =>
        reject(new Error(`the audit job thread failed (${threadFailure}): this worker stopped`)),
      );
    };
  });
}

// A distributed audit on BullMQ (Redis): the coordinator's executor puts the audit's jobs on a queue and collects
// their results as workers finish them (`hashguard worker`); a job is named by the audit's settings and its key,
// so a restarted coordinator finds the jobs already done, and a worker killed mid-job has its job retried.
import type { Job } from 'bullmq';
import { jobKey, type AuditJob, type JobExecutor, type JobResult } from '../audit/index.ts';
import { sha256Hex } from '../hash/index.ts';

/** The queue a coordinator and its workers share unless --queue-name says otherwise. */
export const DEFAULT_QUEUE_NAME = 'hashguard-audit';

/** What a worker needs to rebuild the coordinator's audit and run one of its jobs. */
export interface QueuedJob {
  /** The audit command's flags (models, data, subset, suite, block): the worker loads the same audit from them. */
  argv: string[];
  /** The coordinator's settings string: a worker whose models or data differ refuses the job. */
  settings: string;
  /** Magnitude GI's calibration as the coordinator computed it (null when the audit has none). */
  calibration: unknown;
  job: AuditJob;
}

/** BullMQ's connection options from a redis:// URL (host, port, password, db). */
export function connectionOf(url: string): {
  host: string;
  port: number;
  password?: string;
  username?: string;
  db?: number;
  maxRetriesPerRequest: null;
} {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--queue: expected redis://HOST[:PORT][/DB], got '${url}'`);
  }
  if (u.protocol !== 'redis:')
    throw new Error(`--queue: expected redis://HOST[:PORT][/DB], got '${url}'`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  if (db !== undefined && !(Number.isInteger(db) && db >= 0))
    throw new Error(`--queue: database '${u.pathname.slice(1)}' is not a number`);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(db !== undefined ? { db } : {}),
    // BullMQ's blocking commands need ioredis to retry forever rather than fail a command.
    maxRetriesPerRequest: null,
  };
}

/** A job's id on the queue: the audit (its settings' hash) and the job's key; BullMQ ids may not hold ':'. */
export const queueJobId = (audit: string, key: string) =>
  `${audit}.${encodeURIComponent(key).replace(/\./g, '%2E')}`;

/** The job key a queue job id names (queueJobId's inverse, for the coordinator's log). */
export const keyOfJobId = (id: string) => decodeURIComponent(id.slice(id.indexOf('.') + 1));

export interface QueueExecutorOptions {
  url: string;
  queueName?: string;
  argv: string[];
  /** Tries per job, a job that throws included (a killed worker's job comes back through stall detection). */
  attempts?: number;
  log: (line: string) => void;
  /** Seconds between the coordinator's lines on the queue (waiting, active, workers). */
  reportEvery?: number;
}

/**
 * Runs the audit's jobs on the queue's workers. Results are collected as jobs complete; a job that fails for good
 * (every attempt) fails the audit with the worker's message. Finished jobs are removed once their result is in.
 */
export function queueExecutor(o: QueueExecutorOptions): JobExecutor {
  return {
    async run(jobs, done, { settings, calibration }) {
      // Loaded only for a distributed audit: every other command starts without BullMQ.
      const { Queue, QueueEvents } = await import('bullmq');
      const connection = connectionOf(o.url);
      const name = o.queueName ?? DEFAULT_QUEUE_NAME;
      const queue = new Queue<QueuedJob, JobResult>(name, { connection });
      const events = new QueueEvents(name, { connection });
      const audit = (await sha256Hex(new TextEncoder().encode(settings))).slice(0, 16);
      let timer: ReturnType<typeof setInterval> | null = null;
      const ownErrors = new WeakSet<object>();
      try {
        await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
        // One waiter per job listens on the queue and its events.
        queue.setMaxListeners(jobs.length + 16);
        events.setMaxListeners(jobs.length + 16);
        events.on('stalled', ({ jobId }) =>
          o.log(
            `job ${keyOfJobId(jobId)} stalled (its worker stopped answering): back on the queue`,
          ),
        );
        const added = await queue.addBulk(
          jobs.map((job) => ({
            name: jobKey(job),
            data: { argv: o.argv, settings, calibration, job },
            opts: {
              jobId: queueJobId(audit, jobKey(job)),
              attempts: o.attempts ?? 3,
              backoff: { type: 'fixed', delay: 1000 },
              removeOnComplete: false,
              removeOnFail: false,
            },
          })),
        );
        o.log(`queue ${name} at ${o.url}: ${added.length} jobs of audit ${audit} queued`);
        let finished = 0;
        const report = async () => {
          const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
          const workers = await queue.getWorkersCount();
          o.log(
            `queue: ${finished} of ${jobs.length} done, ${c.active} active, ${c.waiting + c.delayed} waiting, ${workers} workers`,
          );
        };
        timer = setInterval(() => void report().catch(() => {}), (o.reportEvery ?? 10) * 1000);
        // Results go to `done` one at a time, in completion order (the checkpoint is written after each).
        let chain = Promise.resolve();
        const collect = (job: AuditJob, j: Job<QueuedJob, JobResult>) =>
          j.waitUntilFinished(events).then(async (result: JobResult) => {
            chain = chain.then(async () => {
              await done(job, result).catch((err: unknown) => {
                ownErrors.add(err as object); // the caller's (a stop request at a checkpoint): passed on as it is
                throw err;
              });
              finished++;
              await j.remove().catch(() => {}); // its result is in the checkpoint now
            });
            await chain;
          });
        await Promise.all(added.map((j, i) => collect(jobs[i], j)));
        await report();
      } catch (e) {
        if (e instanceof Object && ownErrors.has(e)) throw e;
        throw new Error(`queue ${name}: ${(e as Error).message}`);
      } finally {
        if (timer) clearInterval(timer);
        await events.close();
        await queue.close();
      }
    },
  };
}

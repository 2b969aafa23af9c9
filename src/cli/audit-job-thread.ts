// The thread a `hashguard worker` runs audit jobs in, so the BullMQ side (lock renewal, stall checks) stays
// responsive while a job computes for minutes. It rebuilds the coordinator's audit from its flags once per audit.
import { parse } from './args.ts';
import { AUDIT_FLAGS, auditInputFromFlags } from './audit-input.ts';
import { runJob, setupAudit, type JobResult, type JobSetup } from '../audit/index.ts';
import { DEFAULT_CERTIFY } from '../audit/index.ts';
import { workerScope } from '../runtime/index.ts';
import type { QueuedJob } from './audit-queue.ts';

/** A job for the thread, and its answer. */
export type ThreadRequest = { id: number; data: QueuedJob };
export type ThreadReply =
  { id: number; result: JobResult } | { id: number; error: string } | { id: 0; ready: true };

const self = workerScope();
let cached: { key: string; setup: Promise<JobSetup> } | null = null;

/** The audit a job belongs to, built from its flags and checked against the coordinator's settings. */
async function setupFor(data: QueuedJob): Promise<JobSetup> {
  const v = parse(data.argv, AUDIT_FLAGS);
  const { input } = await auditInputFromFlags(v, () => {});
  const s = await setupAudit({
    ...input,
    command: 'worker',
    calibration: data.calibration as JobSetup['ctx']['progress']['calibration'],
  });
  if (s.settings !== data.settings)
    throw new Error(
      `this worker's audit differs from the coordinator's (models, data or flags):\n  coordinator ${data.settings}\n  worker      ${s.settings}`,
    );
  return {
    ctx: s.ctx,
    configs: s.configs,
    block: input.block!,
    certify: input.certify ?? DEFAULT_CERTIFY,
  };
}

self.onmessage = (e) => {
  const { id, data } = e.data as ThreadRequest;
  const key = JSON.stringify([data.argv, data.calibration]);
  if (cached?.key !== key) cached = { key, setup: setupFor(data) };
  const setup = cached.setup;
  setup
    .then((s) => runJob(s, data.job))
    .then(
      (result) => self.postMessage({ id, result } satisfies ThreadReply),
      (err: unknown) => {
        if (cached?.setup === setup) cached = null; // a failed setup is not kept
        self.postMessage({
          id,
          error: err instanceof Error ? err.message : String(err),
        } satisfies ThreadReply);
      },
    );
};

// Loaded: the worker takes jobs only once its thread can run them.
self.postMessage({ id: 0, ready: true } satisfies ThreadReply);

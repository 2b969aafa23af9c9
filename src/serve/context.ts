// What every route shares: the model registry, limits, budgets, scheduler, metrics and the one inference
// pipeline (budget → queue → worker → deadline) that both /infer and :classify go through.
import type { Context } from 'hono';
import type { LoadedModel } from '../nn/index.ts';
import { type ApiKeys, type QueryBudget, clientAddress, clientIdentity } from './budget/index.ts';
import type { QueryDetector } from './detect/index.ts';
import { HttpError } from './errors.ts';
import type { DefendedInput, DefendedResult, InferenceExecutor } from './executor.ts';
import type { Metrics } from './metrics/series.ts';
import type { ModelRegistry, ServedModel } from './registry.ts';
import type { Budgets, Limits } from './options.ts';
import type { Scheduler } from './scheduler.ts';
import type { AuditGate } from './audit-gate.ts';
import type { AuditIndex } from './audit-index.ts';
import { argmaxRow } from '../tensor/index.ts';

/** Hono environment: entry files pass the peer address as a binding (app.fetch(req, {clientAddress})). */
export type ServeEnv = { Bindings: { clientAddress?: string } };

export interface ServeContext {
  models: ModelRegistry;
  limits: Limits;
  budgets: Omit<Budgets, 'store'> | null;
  budget: QueryBudget | null;
  /** Issued API keys (digests), when configured: they name budgets, and any other bearer gets 401. */
  apiKeys: Promise<ApiKeys> | null;
  /** The query-attack detector (null when off). */
  detector: QueryDetector | null;
  /** Reverse proxies whose X-Forwarded-For is believed (budgets and detection identify clients alike). */
  trustedProxies: readonly string[];
  scheduler: Scheduler;
  executor: InferenceExecutor;
  metrics: Metrics;
  nextSeed: () => number;
  auditDir: string;
  /** The audit reports of auditDir (read by /robustness and the audit gate). */
  audits: AuditIndex;
  /** Present with requireAudit: readiness and inference wait for an audit of the weights. */
  auditGate: AuditGate | null;
}

/**
 * Runs one request of `n` images on `model`: charges the client's budget (429), queues it (503 when full),
 * runs it on the executor under the deadline (503), and returns the logits [n, classes]. A request that
 * gets no answer (shed, deadline, bad image) is refunded, so only answered queries are counted.
 */
export async function infer(
  ctx: ServeContext,
  c: Context<ServeEnv>,
  model: ServedModel & { loaded: LoadedModel },
  input: DefendedInput,
  n: number,
  // Sees the worker's whole answer (:classify reports the image preprocessing from it).
  onAnswer?: (answer: Extract<DefendedResult, { logits: Float32Array }>) => void,
): Promise<Float32Array> {
  if (ctx.auditGate) {
    try {
      await ctx.auditGate.assertAudited(model);
    } catch (e) {
      ctx.metrics.shed('not_ready');
      throw e;
    }
  }
  // Shed before touching the budget store when the queue is already full (cheap, and no refund needed).
  ctx.scheduler.assertRoom();
  // One identity for budgets and detection: an issued key, else the client address.
  const identity =
    ctx.budget || ctx.detector
      ? await clientIdentity(
          c.req.header('authorization'),
          clientAddress(c.env?.clientAddress, c.req.header('x-forwarded-for'), ctx.trustedProxies),
          ctx.apiKeys ? await ctx.apiKeys : null,
        )
      : '';
  // A banned client is refused before it costs a query of its budget or any compute.
  const detectKey = ctx.detector ? await ctx.detector.key(identity) : '';
  if (ctx.detector) await shedOn503(ctx, () => ctx.detector!.admit(detectKey));
  let refund: (() => Promise<void>) | null = null;
  if (ctx.budget) {
    try {
      refund = await ctx.budget.charge(identity, n);
    } catch (e) {
      if (e instanceof HttpError && e.status === 429) ctx.metrics.budgetRejected();
      if (e instanceof HttpError && e.status === 503) ctx.metrics.shed('budget_store');
      throw e;
    }
  }
  let r: Extract<DefendedResult, { logits: Float32Array }>;
  // The detector judges the request's fingerprints as soon as the worker has them, while the model runs; the
  // answer still waits for the verdict (the query that gets its client flagged is refused too, under block).
  let judged: Promise<void> | null = null;
  const early = ctx.detector
    ? (fingerprints: Uint32Array[]) => {
        judged = shedOn503(ctx, () => ctx.detector!.judge(detectKey, identity, fingerprints));
        judged.catch(() => {}); // awaited below; a request that fails first leaves it unobserved
      }
    : undefined;
  try {
    const network = model.loaded.network;
    const random = model.random ? { stage: model.random, seed: ctx.nextSeed() } : null;
    const asked = ctx.detector ? { ...input, fingerprint: ctx.detector.fingerprint } : input;
    const answer = await ctx.scheduler.submit(
      () => ctx.executor.run(network, asked, random, early),
      ctx.limits.deadlineMs,
    );
    if ('clientError' in answer) throw new HttpError(answer.status, answer.clientError);
    r = answer;
  } catch (e) {
    await refund?.();
    throw e;
  }
  ctx.metrics.inferred(model.name, n);
  if (judged) await judged;
  // An executor that does not hand fingerprints over early returns them with the answer.
  else if (ctx.detector && r.fingerprints)
    await shedOn503(ctx, () => ctx.detector!.judge(detectKey, identity, r.fingerprints!));
  onAnswer?.(r);
  return r.logits;
}

/** Runs a detector step, counting its 503 (store unreachable) as shed like the budget store's. */
async function shedOn503(ctx: ServeContext, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (e) {
    if (e instanceof HttpError && e.status === 503) ctx.metrics.shed('detect_store');
    throw e;
  }
}

/** Argmax per row (ties to the lowest index, as Sequential.predict). */
export function argmaxRows(logits: Float32Array, rows: number): number[] {
  const k = logits.length / rows;
  return Array.from({ length: rows }, (_, r) => argmaxRow(logits, r * k, k));
}

/** Softmax per row in float64 (max subtracted), returned as plain numbers. */
export function softmaxRows(logits: Float32Array, rows: number): number[] {
  const k = logits.length / rows,
    out: number[] = [];
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let j = 0; j < k; j++) m = Math.max(m, logits[r * k + j]);
    const e = Array.from({ length: k }, (_, j) => Math.exp(logits[r * k + j] - m));
    const s = e.reduce((a, b) => a + b, 0);
    for (const v of e) out.push(v / s);
  }
  return out;
}

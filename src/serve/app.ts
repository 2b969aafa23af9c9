// createApp(options): the Hono app of the inference server (docs/design.md §6), without listening. Wires the
// model registry, executor, scheduler, budgets and metrics into the feature routes and maps every error to
// {"error": "..."}: HttpError keeps its status; anything else is a server fault, answered 500 without detail.
import { Hono } from 'hono';
import { ApiKeys, MemoryBudgetStore, normalizeAddress, QueryBudget } from './budget/index.ts';
import { classifyRoutes } from './classify/index.ts';
import { demoRoutes } from './demo/index.ts';
import type { ServeContext, ServeEnv } from './context.ts';
import { HttpError } from './errors.ts';
import { workerExecutor } from './executor.ts';
import { healthRoutes } from './health/index.ts';
import { MemoryDetectStore, QueryDetector, resolveDetect } from './detect/index.ts';
import { inferRoutes } from './infer/index.ts';
import { metadataRoutes } from './metadata/index.ts';
import { Metrics, metricsMiddleware, metricsRoutes } from './metrics/index.ts';
import { openApiRoutes } from './openapi/index.ts';
import { resolveBudgets, resolveLimits, type ServeOptions } from './options.ts';
import { ModelRegistry } from './registry.ts';
import { AuditIndex } from './audit-index.ts';
import { robustnessRoutes } from './robustness/index.ts';
import { AuditGate } from './audit-gate.ts';
import { Scheduler } from './scheduler.ts';
import { requestGuard } from './request-guard.ts';
import { randomSecret, requestSeeds } from './seeds.ts';

/** The app plus its lifecycle: `ready` settles when every model is warmed up; `close` frees what it made. */
export type HashguardApp = Hono<ServeEnv> & {
  readonly ready: Promise<void>;
  readonly context: ServeContext;
  close(): Promise<void>;
};

/** The union of both trusted-proxy lists, each checked to be an IP address. */
function trusted(...lists: (readonly string[] | undefined)[]): string[] {
  const all = lists.flatMap((l) => l ?? []);
  for (const t of all)
    if (normalizeAddress(t) === null)
      throw new RangeError(`trustedProxies: '${t}' is not an IP address`);
  return [...new Set(all)];
}

export function createApp(options: ServeOptions): HashguardApp {
  const limits = resolveLimits(options.limits);
  const budgets = resolveBudgets(options.budgets);
  const log = options.log ?? ((m: string) => console.error(m));
  const ownsExecutor = !options.executor;
  const executor = options.executor ?? workerExecutor({ size: options.workers });
  let models: ModelRegistry;
  try {
    models = new ModelRegistry(options.models, executor);
  } catch (e) {
    if (ownsExecutor) void executor.close();
    throw e;
  }
  const metrics: Metrics = new Metrics({
    queueDepth: () => scheduler.queueDepth,
    inFlight: () => scheduler.inFlight,
    backends: () =>
      models
        .all()
        .filter((m) => m.backend)
        .map((m) => [m.name, m.backend!] as [string, string]),
    detectStore: () => detector?.store.usage() ?? null,
  });
  const scheduler = new Scheduler(executor.concurrency, limits.maxQueue, (reason) =>
    metrics.shed(reason),
  );
  const store = budgets
    ? (options.budgets && options.budgets.store) ||
      new MemoryBudgetStore(options.now, budgets.maxClients)
    : null;
  const apiKeys = budgets?.keys?.length ? ApiKeys.from(budgets.keys) : null;
  const detect = options.detect === false ? null : resolveDetect(options.detect ?? {});
  const detector =
    detect && detect.mode !== 'off'
      ? new QueryDetector(
          detect,
          (options.detect && options.detect.store) ||
            new MemoryDetectStore({ ...detect, topK: detect.fingerprint.topK }),
          {
            suspicious: (n) => metrics.detectSuspicious(n),
            flagged: (client, evidence) => {
              metrics.detectFlagged(detect.mode);
              log(
                `hashguard serve: query attack detected (${detect.mode}): client ${client}: ${evidence}`,
              );
            },
            refused: () => metrics.detectRefused(),
          },
          options.detect ? options.detect.seed : undefined,
          options.now,
        )
      : null;
  const auditDir = options.auditDir ?? 'docs/audit';
  const audits = new AuditIndex(auditDir);
  const ctx: ServeContext = {
    models,
    limits,
    budgets,
    scheduler,
    executor,
    metrics,
    budget: budgets && store ? new QueryBudget(budgets, store) : null,
    apiKeys,
    detector,
    trustedProxies: trusted(options.trustedProxies, budgets?.trustedProxies),
    nextSeed: requestSeeds(options.secret ?? randomSecret()),
    auditDir,
    audits,
    auditGate: options.requireAudit ? new AuditGate(audits, auditDir, options.now) : null,
  };

  const app = new Hono<ServeEnv>();
  app.use('*', metricsMiddleware(metrics));
  app.use('*', requestGuard(limits));
  for (const routes of [
    healthRoutes,
    metadataRoutes,
    inferRoutes,
    classifyRoutes,
    robustnessRoutes,
    metricsRoutes,
    openApiRoutes,
  ]) {
    app.route('/', routes(ctx));
  }
  if (options.demo !== false) app.route('/', demoRoutes(ctx, options.demo ?? {}, log));
  app.notFound((c) =>
    c.json({ error: `not found: ${c.req.method} ${c.req.path.slice(0, 200)}` }, 404),
  );
  app.onError((err, c) => {
    if (err instanceof HttpError)
      return c.json(
        err.code ? { error: err.message, code: err.code } : { error: err.message },
        err.status,
        err.headers,
      );
    // Client input never gets here (every parse and check throws HttpError); this is a server fault.
    log(
      `hashguard serve: ${c.req.method} ${c.req.path}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
    return c.json({ error: 'internal server error' }, 500);
  });

  let closed: Promise<void> | null = null;
  return Object.assign(app, {
    ready: models.ready,
    context: ctx,
    close: () =>
      (closed ??= (async () => {
        if (ownsExecutor) await executor.close();
      })()),
  });
}

// GET /v2/health/live and /v2/health/ready (OIP v2): live while the process answers; ready once every model
// is loaded and warmed up (and, with requireAudit, audited), the executor can still run work and the budget
// and detector stores answer (both fail closed, so while one is down no inference would be admitted anyway).
import { Hono } from 'hono';
import type { ServeContext, ServeEnv } from '../context.ts';
import { unavailable } from '../errors.ts';

export function healthRoutes(ctx: ServeContext): Hono<ServeEnv> {
  const app = new Hono<ServeEnv>();
  app.get('/v2/health/live', (c) => c.json({ live: true }));
  app.get('/v2/health/ready', async (c) => {
    const waiting = ctx.models
      .all()
      .filter((m) => m.state !== 'ready')
      .map((m) => `${m.name} (${m.state})`);
    if (ctx.auditGate) {
      for (const m of ctx.models.all()) {
        if (
          m.state === 'ready' &&
          m.loaded &&
          !(await ctx.auditGate.has(m.loaded.manifest.weights.sha256))
        )
          waiting.push(`${m.name} (no audit of its weights)`);
      }
    }
    if (waiting.length) throw unavailable(`not ready: ${waiting.join(', ')}`);
    if (!ctx.executor.healthy)
      throw unavailable('not ready: the inference workers have failed', 30);
    if (ctx.budget && !(await ctx.budget.healthy()))
      throw unavailable('not ready: the query budget store is unreachable', 5);
    if (ctx.detector && !(await ctx.detector.healthy()))
      throw unavailable('not ready: the query detector store is unreachable', 5);
    return c.json({ ready: true });
  });
  return app;
}

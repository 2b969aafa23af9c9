// GET /v2/health/live and /v2/health/ready (OIP v2): live while the process answers; ready once every model
// is loaded and warmed up and the executor can still run work.
import { Hono } from 'hono';
import type { ServeContext, ServeEnv } from '../context.ts';
import { unavailable } from '../errors.ts';

export function healthRoutes(ctx: ServeContext): Hono<ServeEnv> {
  const app = new Hono<ServeEnv>();
  app.get('/v2/health/live', (c) => c.json({ live: true }));
  app.get('/v2/health/ready', (c) => {
    const waiting = ctx.models.all().filter((m) => m.state !== 'ready').map((m) => `${m.name} (${m.state})`);
    if (waiting.length) throw unavailable(`not ready: ${waiting.join(', ')}`);
    if (!ctx.executor.healthy) throw unavailable('not ready: the inference workers have failed', 30);
    return c.json({ ready: true });
  });
  return app;
}

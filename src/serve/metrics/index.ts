// GET /metrics (Prometheus text) and the middleware that counts every answered request by route pattern,
// method and status and times it. Unmatched paths share one label value so scanners cannot grow the series.
import { Hono, type MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { ServeContext, ServeEnv } from '../context.ts';
import type { Metrics } from './series.ts';

export { Metrics, LATENCY_BUCKETS } from './series.ts';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

export function metricsMiddleware(metrics: Metrics): MiddlewareHandler<ServeEnv> {
  return async (c, next) => {
    const t0 = performance.now();
    await next();
    // The last matched route is the handler's pattern; only this '*' middleware matching means no route did.
    const route = routePath(c, -1);
    const method = KNOWN_METHODS.has(c.req.method) ? c.req.method : 'OTHER'; // bounded label set, as for routes
    metrics.observe(
      route && route !== '*' && route !== '/*' ? route : 'unmatched',
      method,
      c.res.status,
      (performance.now() - t0) / 1000,
    );
  };
}

export function metricsRoutes(ctx: ServeContext): Hono<ServeEnv> {
  const app = new Hono<ServeEnv>();
  app.get('/metrics', (c) =>
    c.body(ctx.metrics.render(), 200, {
      'Content-Type': 'text/plain; version=0.0.4; charset=utf-8',
    }),
  );
  return app;
}

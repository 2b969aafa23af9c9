// GET /v2/models/{m}/robustness: the latest audit report (docs/audit/*.json) made for exactly this model's
// weights, matched by sha256 (the report's own or any of its configurations'), so a report never describes other
// weights than the ones being served.
import { Hono } from 'hono';
import type { ServeContext, ServeEnv } from '../context.ts';
import { HttpError } from '../errors.ts';

/** JSON with object keys sorted, so stages compare whatever order their fields were written in. */
const canonical = (v: unknown): string =>
  Array.isArray(v)
    ? `[${v.map(canonical).join(',')}]`
    : typeof v === 'object' && v !== null
      ? `{${Object.keys(v)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
          .join(',')}}`
      : JSON.stringify(v);

export function robustnessRoutes(ctx: ServeContext): Hono<ServeEnv> {
  const app = new Hono<ServeEnv>();
  app.get('/v2/models/:name/robustness', async (c) => {
    const m = ctx.models.requireReady(c.req.param('name'));
    const sha = m.loaded.manifest.weights.sha256;
    const a = await ctx.audits.latestFor(sha);
    if (!a) throw new HttpError(404, `no audit for weights ${sha}`);
    // Which configurations attacked these weights, and the one whose GI stages are the served model's own
    // (null when none is, e.g. a report matched by its top-level hash only).
    const matching = a.configurations.filter((k) => k.sha === sha);
    const served = canonical(m.loaded.manifest.defense?.stages ?? []);
    const configuration = matching.find((k) => canonical(k.stages ?? []) === served)?.name ?? null;
    return c.json({
      model: m.name,
      weightsSha256: sha,
      file: a.file,
      configurations: matching.map((k) => k.name),
      configuration,
      audit: a.doc,
    });
  });
  return app;
}

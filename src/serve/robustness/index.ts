// GET /v2/models/{m}/robustness: the latest audit report (docs/audit/*.json) made for exactly this model's
// weights, matched by sha256 (the report's own or any of its configurations'), so a report never describes other
// weights than the ones being served; GET /v2/models/{m}/robustness/report: that report's HTML charts.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Hono } from 'hono';
import type { LoadedModel } from '../../nn/index.ts';
import type { AuditFile } from '../audit-index.ts';
import type { ServeContext, ServeEnv } from '../context.ts';
import { HttpError } from '../errors.ts';
import type { ServedModel } from '../registry.ts';

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

/** The audit of a served model's weights, the configurations that attacked them and the one it is served as. */
export async function servedAudit(
  ctx: ServeContext,
  m: ServedModel & { loaded: LoadedModel },
): Promise<{ audit: AuditFile; configurations: string[]; configuration: string | null } | null> {
  const sha = m.loaded.manifest.weights.sha256;
  const a = await ctx.audits.latestFor(sha);
  if (!a) return null;
  // Which configurations attacked these weights, and the one whose GI stages are the served model's own
  // (null when none is, e.g. a report matched by its top-level hash only).
  const matching = a.configurations.filter((k) => k.sha === sha);
  const served = canonical(m.loaded.manifest.defense?.stages ?? []);
  const configuration = matching.find((k) => canonical(k.stages ?? []) === served)?.name ?? null;
  return { audit: a, configurations: matching.map((k) => k.name), configuration };
}

/** The HTML report written beside an audit's JSON (same name, .html), or null when there is none. */
export async function reportPath(ctx: ServeContext, a: AuditFile): Promise<string | null> {
  const path = join(ctx.auditDir, a.file.replace(/\.json$/, '.html'));
  return (await stat(path).catch(() => null))?.isFile() ? path : null;
}

/** The report page's policy: its inline styles and data: images, nothing else (no script, no request). */
const REPORT_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'";

export function robustnessRoutes(ctx: ServeContext): Hono<ServeEnv> {
  const app = new Hono<ServeEnv>();
  app.get('/v2/models/:name/robustness', async (c) => {
    const m = ctx.models.requireReady(c.req.param('name'));
    const sha = m.loaded.manifest.weights.sha256;
    const found = await servedAudit(ctx, m);
    if (!found) throw new HttpError(404, `no audit for weights ${sha}`);
    return c.json({
      model: m.name,
      weightsSha256: sha,
      file: found.audit.file,
      configurations: found.configurations,
      configuration: found.configuration,
      audit: found.audit.doc,
    });
  });
  app.get('/v2/models/:name/robustness/report', async (c) => {
    const m = ctx.models.requireReady(c.req.param('name'));
    const found = await servedAudit(ctx, m);
    const path = found && (await reportPath(ctx, found.audit));
    const html = path && (await readFile(path, 'utf8').catch(() => null));
    if (!html)
      throw new HttpError(
        404,
        `no HTML audit report for weights ${m.loaded.manifest.weights.sha256}`,
      );
    return c.html(html, 200, {
      'Content-Security-Policy': REPORT_CSP,
      'Cache-Control': 'no-cache',
    });
  });
  return app;
}

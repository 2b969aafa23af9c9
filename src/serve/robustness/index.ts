// GET /v2/models/{m}/robustness: the latest audit report (docs/audit/*.json) made for exactly this model's
// weights, matched by sha256 (the report's own or any of its configurations'), so a report never describes other
// weights than the ones being served.
import { Hono } from 'hono';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServeContext, ServeEnv } from '../context.ts';
import { HttpError } from '../errors.ts';

interface AuditFile {
  file: string; mtimeMs: number; size: number; sha: string | null;
  /** Each configuration's weights hash (side-by-side audits): a model served as one of them matches too. */
  configurations: { name: string; sha: string; stages: unknown }[];
  at: number; doc: unknown;
}

/** The report's own timestamp (createdAt, generatedAt, date or timestamp) in ms, else the file's mtime. */
function reportTime(doc: Record<string, unknown>, mtimeMs: number): number {
  for (const k of ['createdAt', 'generatedAt', 'date', 'timestamp']) {
    const t = typeof doc[k] === 'string' || typeof doc[k] === 'number' ? new Date(doc[k] as string | number).getTime() : NaN;
    if (Number.isFinite(t)) return t;
  }
  return mtimeMs;
}

/** JSON with object keys sorted, so stages compare whatever order their fields were written in. */
const canonical = (v: unknown): string =>
  Array.isArray(v) ? `[${v.map(canonical).join(',')}]`
  : typeof v === 'object' && v !== null ? `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`
  : JSON.stringify(v);

/** Reads audit reports, re-parsing only files that changed since the last call. */
export class AuditIndex {
  private readonly cache = new Map<string, AuditFile>();

  constructor(private readonly dir: string) {}

  /**
   * The newest report whose weightsSha256 (top level or under `model`) or any configuration's weightsSha256
   * equals `sha`, or null. A configuration match covers the models an audit attacks beside its hashed one: the
   * dense and adversarially trained models, and hardened ones (a query-time random stage keeps its source's
   * weights, so a model hardened with GI random alone has its source's hash; GI scale / magnitude edit them).
   */
  async latestFor(sha: string): Promise<AuditFile | null> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((f) => f.endsWith('.json'));
    } catch {
      return null; // no audit directory yet: same answer as no matching report
    }
    let best: AuditFile | null = null;
    for (const name of names) {
      const a = await this.load(join(this.dir, name), name);
      if (a && (a.sha === sha || a.configurations.some((c) => c.sha === sha)) && (!best || a.at > best.at)) best = a;
    }
    return best;
  }

  private async load(path: string, file: string): Promise<AuditFile | null> {
    try {
      const s = await stat(path);
      const hit = this.cache.get(path);
      if (hit && hit.mtimeMs === s.mtimeMs && hit.size === s.size) return hit;
      const doc = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
      const model = doc.model as Record<string, unknown> | undefined;
      const sha = typeof doc.weightsSha256 === 'string' ? doc.weightsSha256 : typeof model?.weightsSha256 === 'string' ? model.weightsSha256 : null;
      // Remote audits keep the served hash under `server` and have no configurations: never matched here.
      const configurations = (Array.isArray(doc.configurations) ? doc.configurations : [])
        .filter((c): c is Record<string, unknown> => typeof c === 'object' && c !== null && typeof (c as Record<string, unknown>).weightsSha256 === 'string')
        .map((c) => ({ name: String(c.name), sha: c.weightsSha256 as string, stages: c.stages }));
      const entry = { file, mtimeMs: s.mtimeMs, size: s.size, sha, configurations, at: reportTime(doc, s.mtimeMs), doc };
      this.cache.set(path, entry);
      return entry;
    } catch {
      return null; // an unreadable or half-written report is skipped, not served
    }
  }
}

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
    return c.json({ model: m.name, weightsSha256: sha, file: a.file, configurations: matching.map((k) => k.name), configuration, audit: a.doc });
  });
  return app;
}

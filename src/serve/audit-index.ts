// The audit reports a server can show: docs/audit/*.json indexed by the weights they attacked (the report's own
// sha256 and each configuration's), re-read only when a file changes. Used by the robustness route and the
// audit gate.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface AuditFile {
  file: string;
  mtimeMs: number;
  size: number;
  sha: string | null;
  /** Each configuration's weights hash (side-by-side audits): a model served as one of them matches too. */
  configurations: { name: string; sha: string; stages: unknown }[];
  at: number;
  doc: unknown;
}

/** The report's own timestamp (createdAt, generatedAt, date or timestamp) in ms, else the file's mtime. */
function reportTime(doc: Record<string, unknown>, mtimeMs: number): number {
  for (const k of ['createdAt', 'generatedAt', 'date', 'timestamp']) {
    const t =
      typeof doc[k] === 'string' || typeof doc[k] === 'number'
        ? new Date(doc[k] as string | number).getTime()
        : NaN;
    if (Number.isFinite(t)) return t;
  }
  return mtimeMs;
}

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
      if (
        a &&
        (a.sha === sha || a.configurations.some((c) => c.sha === sha)) &&
        (!best || a.at > best.at)
      )
        best = a;
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
      const sha =
        typeof doc.weightsSha256 === 'string'
          ? doc.weightsSha256
          : typeof model?.weightsSha256 === 'string'
            ? model.weightsSha256
            : null;
      // Remote audits keep the served hash under `server` and have no configurations: never matched here.
      const configurations = (Array.isArray(doc.configurations) ? doc.configurations : [])
        .filter(
          (c): c is Record<string, unknown> =>
            typeof c === 'object' &&
            c !== null &&
            typeof (c as Record<string, unknown>).weightsSha256 === 'string',
        )
        .map((c) => ({ name: String(c.name), sha: c.weightsSha256 as string, stages: c.stages }));
      const entry = {
        file,
        mtimeMs: s.mtimeMs,
        size: s.size,
        sha,
        configurations,
        at: reportTime(doc, s.mtimeMs),
        doc,
      };
      this.cache.set(path, entry);
      return entry;
    } catch {
      return null; // an unreadable or half-written report is skipped, not served
    }
  }
}

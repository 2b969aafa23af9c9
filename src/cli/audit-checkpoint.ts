// The audit's checkpoint file: where an unfinished audit stands (audit/audit-progress.ts) as JSON with the sha256
// of its body, written atomically after every attack, checked on --resume and removed when the report is written.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AuditProgress } from '../audit/index.ts';
import { sha256Hex } from '../hash/index.ts';
import { writeFileAtomic } from '../io/index.ts';
import { UsageError } from './args.ts';

const encode = (s: string) => new TextEncoder().encode(s);

export async function saveAuditCheckpoint(path: string, progress: AuditProgress): Promise<void> {
  const body = JSON.stringify(progress);
  mkdirSync(dirname(path), { recursive: true });
  await writeFileAtomic(path, `{"sha256":"${await sha256Hex(encode(body))}","progress":${body}}\n`);
}

/** The progress in `path`; a missing, truncated or altered file is a UsageError naming what is wrong. */
export async function loadAuditCheckpoint(path: string): Promise<AuditProgress> {
  if (!existsSync(path)) throw new UsageError(`--resume: no audit checkpoint at ${path}`);
  let parsed: { sha256?: unknown; progress?: unknown };
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new UsageError(`--resume: ${path} is not JSON (truncated or corrupt?)`);
  }
  const body = JSON.stringify(parsed.progress);
  if (
    typeof parsed.sha256 !== 'string' ||
    body === undefined ||
    parsed.sha256 !== (await sha256Hex(encode(body)))
  ) {
    throw new UsageError(`--resume: ${path} fails its checksum (corrupt or edited)`);
  }
  const p = parsed.progress as Partial<AuditProgress>;
  if (p.format !== 1 || typeof p.settings !== 'string' || !Array.isArray(p.reports))
    throw new UsageError(`--resume: ${path} is not an audit checkpoint`);
  return p as AuditProgress;
}

export function removeAuditCheckpoint(path: string): void {
  rmSync(path, { force: true });
}

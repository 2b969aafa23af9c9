// A distributed audit without Redis: `--shard i/n` runs every n-th job of the audit's plan from the i-th and
// writes their results to a shard file; `--merge-shards` reads the shard files back as one checkpoint, checked
// to be of one audit, from which the audit command assembles the report (a Kubernetes Indexed Job's two steps).
import { readFileSync } from 'node:fs';
import { runAuditJobs, type AuditProgress } from '../audit/index.ts';
import { writeFileAtomic } from '../io/index.ts';
import { requireString, UsageError, type FlagValues } from './args.ts';
import { auditInputFromFlags } from './audit-input.ts';
import { guardReport } from './output-guard.ts';
import type { progressFromFlags, ProgressTask } from './progress.ts';

/** Images per job of a distributed audit when --block is not given. */
export const DEFAULT_BLOCK = 100;

/** The file a shard writes: its audit's settings and calibration, and its jobs' results. */
interface ShardFile {
  format: 1;
  kind: 'audit-shard';
  shard: string;
  progress: AuditProgress;
}

/** --shard i/n: this process runs every n-th job from the i-th and writes their results to <out>.json. */
export async function shardCommand(
  argv: string[],
  v: FlagValues,
  sink: ReturnType<typeof progressFromFlags>,
  force: boolean,
): Promise<void> {
  const m = /^(\d+)\/(\d+)$/.exec(v.shard as string);
  const [index, count] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!(count >= 1 && index < count))
    throw new UsageError(`--shard: expected i/n with 0 ≤ i < n (e.g. 0/4), got '${v.shard}'`);
  const out = requireString(v, 'out');
  guardReport(out, ['.json'], force);
  const { input } = await auditInputFromFlags(v, (line) => sink.log(line));
  let task: ProgressTask | null = null;
  const progress = await runAuditJobs(
    {
      ...input,
      command: `bun run audit -- ${argv.join(' ')}`,
      progress: (line) => sink.log(line),
      onJob: (p) => {
        if (!task) task = sink.task('shard', p.total, 'jobs', { done: p.done });
        else task.update(p.done, { detail: `${p.job} done`, force: true });
      },
    },
    { index, count },
  );
  const file: ShardFile = { format: 1, kind: 'audit-shard', shard: `${index}/${count}`, progress };
  await writeFileAtomic(`${out}.json`, JSON.stringify(file));
  (task as ProgressTask | null)?.finish({ out: `${out}.json` });
  sink.log(
    `wrote ${out}.json (shard ${index}/${count}: ${Object.keys(progress.jobs ?? {}).length} jobs); ` +
      'merge the shards with the same flags plus --merge-shards FILE,FILE,... --out DIR/NAME',
  );
}

/** --merge-shards: the shards' results as one checkpoint, checked to be of one audit (the run then only assembles). */
export function readShards(list: string): AuditProgress {
  const files = list
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  if (!files.length) throw new UsageError('--merge-shards: give the shard files, comma-separated');
  const parts = files.map((file) => {
    let f: ShardFile;
    try {
      f = JSON.parse(readFileSync(file, 'utf8')) as ShardFile;
    } catch (e) {
      throw new UsageError(`--merge-shards: cannot read ${file} (${(e as Error).message})`);
    }
    if (f?.format !== 1 || f.kind !== 'audit-shard' || typeof f.progress?.settings !== 'string')
      throw new UsageError(
        `--merge-shards: ${file} is not a shard file (audit --shard i/n writes one)`,
      );
    return { file, f };
  });
  const first = parts[0];
  for (const { file, f } of parts)
    if (f.progress.settings !== first.f.progress.settings)
      throw new UsageError(
        `--merge-shards: ${file} is of another audit than ${first.file} (other models, data or flags)`,
      );
  return {
    ...first.f.progress,
    seconds: parts.reduce((sum, p) => sum + p.f.progress.seconds, 0),
    jobs: Object.assign({}, ...parts.map((p) => p.f.progress.jobs)),
  };
}

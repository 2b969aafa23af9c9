// `hashguard audit`: the robustness audit of a hashed model family (dense, hashed, hashed + each GI stage, and
// the adversarially trained dense / hashed models when given) under the paper-era and adaptive attacks, written
// as JSON, Markdown and a self-contained HTML page; with --url, the black-box audit of a running server instead
// (audit-remote.ts).
import { basename, join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { loadDataset } from '../data/node.ts';
import { DATASET_NAMES, type DatasetName } from '../data/index.ts';
import { loadModelDir } from '../io/index.ts';
import { writeAuditReport as writeReport } from './report-files.ts';
import {
  NAMED_SUITES,
  SUITE,
  CONFIGURATION_KEYS,
  mergeAuditReports,
  type AuditReport,
  runAudit,
  certifyReport,
  DEFAULT_CERTIFY,
} from '../audit/index.ts';
import { BOUND_METHODS } from '../verify/index.ts';
import { choice, number, parse, requireString, UsageError } from './args.ts';
import { modelData, modelDataUsage } from './data-flags.ts';
import { REMOTE_FLAGS, remoteAuditCommand, remoteAuditUsage } from './audit-remote.ts';
import { guardReport } from './output-guard.ts';
import { progressFromFlags, progressUsage, type ProgressTask } from './progress.ts';
import { listenForStop, resumeCommand, Stopped, STOPPED_EXIT_CODE } from './stop.ts';
import { newRunDir } from './run-dir.ts';
import { AUDIT_FLAGS, auditInputFromFlags, auditModel } from './audit-input.ts';
import { queueExecutor } from './audit-queue.ts';
import { DEFAULT_BLOCK, readShards, shardCommand } from './audit-shards.ts';
import { setExitCode, standardError } from '../runtime/index.ts';
import {
  loadAuditCheckpoint,
  removeAuditCheckpoint,
  saveAuditCheckpoint,
} from './audit-checkpoint.ts';

/** The files of one report: <out>.json, .md and .html. */
const REPORT_FILES = ['.json', '.md', '.html'] as const;

export const auditUsage = `usage: bun run audit -- --model models/HASHED [--dense models/DENSE] [--n 1000] [--n-query 100] [--seed 1]
  [--eps E]   (the L∞ budget, e.g. 0.1 or 8/255; default: 0.3 for MNIST-family data, 8/255 for CIFAR-10; the PGD step scales with it;
    with --data: 0.3 for a model whose input background is dark, else 8/255)
${modelDataUsage('1: every image')}
  [--dense-at models/DENSE-AT] [--hashed-at models/HASHED-AT]   (adversarially trained models: add the 'dense AT',
    'hashed AT' and 'hashed AT+GI random' configurations; same dataset, input shape and classes, undefended)
  [--attacks ${SUITE.map((e) => e.id).join(',')}] [--out DIR/NAME [--force]] [--backend wasm|reference]
  [--suite ${Object.keys(NAMED_SUITES).join('|')}[,...]]   (named suites, with any --attacks; autoattack: AutoAttack's
    standard cascade on deterministic configurations, its rand version over EOT(20) on randomized ones;
    default,autoattack: the whole adaptive set plus the cascades, as the committed audits run)
  [--configurations ${CONFIGURATION_KEYS.join(',')}]   (a part report: run parts side by side, then --merge)
  [--checkpoint PATH] [--resume]   (after every attack the audit's progress is saved atomically, by default to
    checkpoints/audit-NAME.json; --resume, with the same flags and --out, continues a stopped run with the same numbers;
    Ctrl-C or SIGTERM stops after the attack under way, once its progress is saved, prints the --resume command and
    exits 130: no report is written until the audit is whole)
  [--cascade-chunk 100]   (the AutoAttack cascades attack this many images at a time, with a checkpoint after each)
  [--certify ${BOUND_METHODS.join('|')}|off]   (the certified side of the bracket, default ${DEFAULT_CERTIFY}: each
    configuration's certified accuracy beside its robust accuracy, over the ε sweep too, and the check that no
    certified image was broken)
  [--block 100] [--queue redis://HOST[:PORT][/DB] [--queue-name hashguard-audit]]   (a distributed audit: cut into
    independent jobs (configuration × attack × block of images, plus each configuration's checks and certificates)
    whose random streams come from the seed and the job, so the report is the same whoever runs them; --queue puts
    them on BullMQ for \`bun run worker -- --queue redis://HOST\` processes on any machines and merges their results)
  [--shard i/n --out DIR/PART]   (without Redis: every n-th job from the i-th, written to PART.json; then the same
    flags with --merge-shards PART.json,PART.json,... --out DIR/NAME assemble the report)
       bun run audit -- --merge PART.json,PART.json,... --out DIR/NAME [--force]
       bun run audit -- --add-certificates REPORT.json [--certify METHOD] --out DIR/NAME [--force]
    (the certified side added to a finished report: its models are loaded from models/NAME and checked by sha256;
    configurations already certified by the same method keep their certificates)
  Writes NAME.json, NAME.md and NAME.html. Without --out: a new folder runs/audit-<model>-<UTC time>/ (the
  report named after the family); an --out whose files exist is refused before any work unless --force.
${progressUsage}
${remoteAuditUsage}`;

export async function auditCommand(argvIn: string[]): Promise<void> {
  let argv = argvIn;
  const v = parse(argv, AUDIT_FLAGS);
  // --url: a running server, attacked through its public API only.
  if (v.url !== undefined && v.suite !== undefined)
    throw new UsageError('--suite applies to the local audit only (without --url)');
  if (v.url !== undefined) return remoteAuditCommand(argv, v);
  const force = Boolean(v.force);
  if (v.merge !== undefined)
    return mergeCommand(argv, v.merge as string, requireString(v, 'out'), force);
  const certify = choice(v, 'certify', [...BOUND_METHODS, 'off'] as const, DEFAULT_CERTIFY);
  if (v['add-certificates'] !== undefined) {
    if (certify === 'off') throw new UsageError('--add-certificates needs a --certify method');
    return addCertificatesCommand(
      argv,
      v,
      v['add-certificates'] as string,
      requireString(v, 'out'),
      force,
      certify,
    );
  }
  // --eps is shared: the remote audit's list of radii, the local audit's one L∞ budget.
  const remoteOnly = Object.keys(REMOTE_FLAGS).filter((k) => k !== 'eps' && v[k] !== undefined);
  if (remoteOnly.length)
    throw new UsageError(`--${remoteOnly[0]} applies to the remote audit only (with --url)`);
  const sink = progressFromFlags(v);
  if (v.resume && typeof v.out !== 'string' && v.checkpoint === undefined)
    throw new UsageError('--resume: give the --out (or --checkpoint) of the run to continue');
  // A distributed audit (a queue, a shard, shards merged) is cut into jobs: of 100 images unless --block says.
  const distributed = ['queue', 'shard', 'merge-shards'].filter((k) => v[k] !== undefined);
  if (distributed.length > 1)
    throw new UsageError(`--${distributed[0]} and --${distributed[1]} do not go together`);
  if (distributed.length && v.block === undefined) {
    v.block = String(DEFAULT_BLOCK);
    argv = [...argv, '--block', String(DEFAULT_BLOCK)];
  }
  if (v.shard !== undefined) return shardCommand(argv, v, sink, force);
  if (typeof v.out === 'string') guardReport(v.out, REPORT_FILES, force);
  const shards =
    v['merge-shards'] === undefined ? undefined : readShards(v['merge-shards'] as string);
  const { input: base, hashedDir } = await auditInputFromFlags(v, (line) => sink.log(line));
  // A fresh folder per run: the committed reports in docs/audit/ are replaced only by an explicit --out --force.
  const out =
    (v.out as string | undefined) ?? join(newRunDir(`audit-${basename(hashedDir)}`), base.family);
  const checkpoint =
    (v.checkpoint as string | undefined) ?? join('checkpoints', `audit-${basename(out)}.json`);
  if (!v.resume && !force && existsSync(checkpoint))
    throw new UsageError(
      `${checkpoint} holds an unfinished audit: continue it with --resume, or start over with --force`,
    );
  const resume = shards ?? (v.resume ? await loadAuditCheckpoint(checkpoint) : undefined);
  sink.log(
    `writing ${out}.{json,md,html} when done; progress after every ${base.block ? 'job' : 'attack'} in ${checkpoint}`,
  );
  let task: ProgressTask | null = null;
  const stop = listenForStop(sink, 'after the attack under way, once its progress is saved');
  const audit = runAudit({
    ...base,
    command: `bun run audit -- ${argv.join(' ')}`,
    progress: (line) => sink.log(line),
    onAttack: (p) => {
      const fields = { configuration: p.configuration, attack: p.attack };
      if (!task) task = sink.task('audit', p.total, 'attacks', { done: p.done, fields });
      else
        task.update(p.done, {
          fields,
          detail: `${p.configuration}: ${p.attack} done`,
          force: true,
        });
    },
    onJob: (p) => {
      if (!task) task = sink.task('audit', p.total, 'jobs', { done: p.done });
      else task.update(p.done, { detail: `${p.job} done`, force: true });
    },
    ...(typeof v.queue === 'string'
      ? {
          executor: queueExecutor({
            url: v.queue,
            queueName: v['queue-name'] as string | undefined,
            argv,
            log: (line) => sink.log(line),
          }),
        }
      : {}),
    resume,
    // A signal stops the audit right after a checkpoint: nothing done since is lost.
    checkpoint: async (p) => {
      await saveAuditCheckpoint(checkpoint, p);
      stop.check();
    },
  });
  const report = await audit.catch((e: unknown) => {
    stop.dispose();
    if (e instanceof Stopped) {
      const t = task as ProgressTask | null; // assigned in onAttack, which TypeScript cannot follow
      t?.interrupt({ signal: e.signal, checkpoint });
      // Without --out the run's folder is new: the resume must name it.
      const extra = v.out === undefined && v.checkpoint === undefined ? ['--out', out] : [];
      sink.log(
        `interrupted by ${e.signal}: the audit's progress is saved in ${checkpoint} (no report written yet); ` +
          `continue with: ${resumeCommand('audit', argv, extra)}`,
      );
    }
    throw e;
  });
  // The report's three files are written whole: a signal from here on waits for them.
  await writeReport(out, report);
  removeAuditCheckpoint(checkpoint);
  stop.dispose();
  (task as ProgressTask | null)?.finish({ out, seconds: Math.round(report.seconds) });
  sink.log(`wrote ${out}.json, ${out}.md, ${out}.html (${(report.seconds / 60).toFixed(1)} min)`);
  if (stop.signal) setExitCode(STOPPED_EXIT_CODE);
}

/** A report file, read and checked to be an audit report (errors name the file and what is wrong). */
function readReport(file: string, flag: string): AuditReport {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`${flag}: cannot read ${file}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`${flag}: ${file} is not JSON (truncated or corrupt?)`);
  }
  const r = parsed as Partial<AuditReport>;
  if (r.format !== 1 || !Array.isArray(r.configurations) || typeof r.indexSha256 !== 'string')
    throw new UsageError(`${flag}: ${file} is not an audit report`);
  return r as AuditReport;
}

/**
 * --add-certificates: the certified side of the bracket added to a finished report. Its models are the ones it
 * names, from models/NAME, refused unless their weights sha256 is the one the report recorded.
 */
async function addCertificatesCommand(
  argv: string[],
  v: Record<string, unknown>,
  file: string,
  out: string,
  force: boolean,
  method: (typeof BOUND_METHODS)[number],
): Promise<void> {
  const report = readReport(file, '--add-certificates');
  guardReport(out, REPORT_FILES, force);
  const load = async (ref: { name: string; weightsSha256: string } | undefined) => {
    if (!ref) return undefined;
    const m = auditModel(await loadModelDir(join('models', ref.name)));
    if (m.weightsSha256 !== ref.weightsSha256)
      throw new UsageError(
        `--add-certificates: models/${ref.name} is not the model the report audited (weights sha256 differs)`,
      );
    return m.model;
  };
  const [dense, hashed, denseAt, hashedAt] = await Promise.all([
    load(report.dense),
    load(report.hashed),
    load(report.denseAt),
    load(report.hashedAt),
  ]);
  const sink = progressFromFlags(v);
  // A named dataset by its name; an image folder (or --data) through the hashed model, as the audit read it.
  const hashedDir = join('models', report.hashed.name);
  const named =
    v.data === undefined && (DATASET_NAMES as readonly string[]).includes(report.dataset);
  const hashedManifest = named ? null : (await loadModelDir(hashedDir)).manifest;
  const { data } = hashedManifest
    ? await modelData(
        v,
        { dir: hashedDir, manifest: hashedManifest },
        { seed: hashedManifest.provenance.seed, allByDefault: true, log: (l) => sink.log(l) },
      )
    : { data: await loadDataset(report.dataset as DatasetName) };
  const certified = await certifyReport(
    report,
    {
      dense: dense!,
      hashed: hashed!,
      ...(denseAt ? { denseAt } : {}),
      ...(hashedAt ? { hashedAt } : {}),
    },
    data.test,
    method,
    (line) => sink.log(line),
  );
  await writeReport(out, { ...certified, certifyCommand: `bun run audit -- ${argv.join(' ')}` });
  sink.log(`wrote ${out}.json, ${out}.md, ${out}.html`);
}

/** --merge: part reports (each from --configurations) joined into one report, rendered like a single run's. */
async function mergeCommand(
  argv: string[],
  list: string,
  out: string,
  force: boolean,
): Promise<void> {
  const files = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (files.length === 0) throw new UsageError('--merge: give the part reports, comma-separated');
  const parts = files.map((file) => readReport(file, '--merge'));
  let report: AuditReport;
  try {
    report = mergeAuditReports(parts, `bun run audit -- ${argv.join(' ')}`);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  // After the parts are checked (a bad part is the first thing to hear about), before anything is written.
  guardReport(out, REPORT_FILES, force);
  await writeReport(out, report);
  standardError().write(
    `wrote ${out}.json, ${out}.md, ${out}.html (${report.configurations.length} configurations from ${parts.length} parts)\n`,
  );
}

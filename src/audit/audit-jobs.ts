// An audit cut into independent jobs (configuration × attack × block of images, plus each configuration's masking
// checks and certificates) that any process can run in any order, and the report assembled from their results.
// Every job restarts the randomized model's draws from a stream named by the job, so no number depends on order.
import { deriveStream } from '../hash/index.ts';
import type { BoundMethod } from '../verify/index.ts';
import type { SuiteEntry } from './attack-suite.ts';
import {
  assembleConfiguration,
  cleanStep,
  entryLine,
  logClean,
  runsOn,
  summarizeEntry,
  sweepRest,
  type AuditContext,
} from './audit-configuration.ts';
import { applyCertificates, certifyConfiguration } from './certified-bracket.ts';
import type { AuditConfiguration } from './configurations.ts';
import { judgeChecks, measureChecks } from './masking-checks.ts';
import type { JobResult } from './audit-progress.ts';
import type { AttackSummary, ConfigReport, ImageExample } from './report-types.ts';
import {
  appendOutcome,
  decodeOutcome,
  emptyOutcome,
  encodeOutcome,
  runChunk,
} from './run-entry.ts';

/** One unit of an audit's work. `block` numbers the entry's blocks of `size` images from the first. */
export type AuditJob =
  | { kind: 'attack'; config: string; entry: string; block: number; start: number; end: number }
  | { kind: 'checks'; config: string }
  | { kind: 'certify'; config: string; method: BoundMethod };

export type { JobResult };

/** A job's key: unique within its audit, stable across processes (queue job ids and part files use it). */
export function jobKey(job: AuditJob): string {
  if (job.kind === 'attack') return `attack/${job.config}/${job.entry}/${job.block}`;
  return `${job.kind}/${job.config}`;
}

/** The stream a job draws its randomized model's seeds from: the audit's seed and the job's key, folded. */
export function jobStream(seed: number, key: string): number {
  let h = deriveStream(seed, 0x6a6f6200); // 'job\0'
  for (let i = 0; i < key.length; i++) h = deriveStream(h, key.charCodeAt(i));
  return h;
}

/** The audit's setup every job runs against: its images, models and suite (built the same way in every process). */
export interface JobSetup {
  ctx: AuditContext;
  configs: AuditConfiguration[];
  /** Images per attack job. */
  block: number;
  /** The certified side's bound method, or 'off'. */
  certify: BoundMethod | 'off';
}

/** Every job of the audit, in the order a single process runs them (configuration, suite entry, block). */
export function planJobs(setup: JobSetup): AuditJob[] {
  const { ctx, configs, block } = setup;
  const jobs: AuditJob[] = [];
  for (const cfg of configs) {
    for (const entry of ctx.suite) {
      if (!runsOn(entry, cfg.model.randomized)) continue;
      const count = entry.subset === 'full' ? ctx.n : ctx.nq;
      for (let k = 0, start = 0; start < count; k++, start += block)
        jobs.push({
          kind: 'attack',
          config: cfg.name,
          entry: entry.id,
          block: k,
          start,
          end: Math.min(start + block, count),
        });
    }
    jobs.push({ kind: 'checks', config: cfg.name });
    if (setup.certify !== 'off')
      jobs.push({ kind: 'certify', config: cfg.name, method: setup.certify });
  }
  return jobs;
}

const configOf = (setup: JobSetup, name: string) => {
  const cfg = setup.configs.find((c) => c.name === name);
  if (!cfg) throw new Error(`audit job: unknown configuration '${name}'`);
  return cfg;
};

const entryOf = (setup: JobSetup, id: string): SuiteEntry => {
  const entry = setup.ctx.suite.find((e) => e.id === id);
  if (!entry) throw new Error(`audit job: attack '${id}' is not in this audit's suite`);
  return entry;
};

/** A configuration's clean step, from its own stream (the same in every process that needs it). */
function cleanOf(setup: JobSetup, cfg: AuditConfiguration) {
  cfg.model.restartSeeds(jobStream(setup.ctx.seed, `clean/${cfg.name}`));
  return cleanStep(setup.ctx, cfg.model);
}

// A process running many jobs of one configuration computes its clean verdicts once.
const cleanCache = new WeakMap<AuditConfiguration, boolean[]>();

function cleanCorrectOf(setup: JobSetup, cfg: AuditConfiguration): boolean[] {
  let c = cleanCache.get(cfg);
  if (!c) {
    c = [...cleanOf(setup, cfg).cleanCorrect].map((b) => b === '1');
    cleanCache.set(cfg, c);
  }
  return c;
}

/** Runs one job. Its numbers depend only on the setup and the job, never on what ran before in this process. */
export async function runJob(setup: JobSetup, job: AuditJob): Promise<JobResult> {
  const cfg = configOf(setup, job.config);
  const m = cfg.model;
  const { ctx } = setup;
  // A process that moves on to another configuration frees the chains of the others (wasm arenas).
  for (const other of setup.configs) if (other !== cfg) other.model.network.releaseCompiled();
  if (job.kind === 'attack') {
    const entry = entryOf(setup, job.entry);
    const clean = entry.table === 'adaptive' ? cleanCorrectOf(setup, cfg) : [];
    m.restartSeeds(jobStream(ctx.seed, jobKey(job)));
    const rows = Array.from({ length: job.end - job.start }, (_, i) => job.start + i);
    const { piece, example } = await runChunk(ctx, cfg.name, m, entry, rows, job.block, clean);
    return { kind: 'attack', outcome: encodeOutcome(entry.id, piece), example };
  }
  m.restartSeeds(jobStream(ctx.seed, jobKey(job)));
  if (job.kind === 'checks') {
    const measures = await measureChecks(ctx, m, m.randomized);
    // The robust sweep's other factors belong to this job too (they are its PGD runs at more radii).
    const sweep = new Map(
      Object.entries(measures.sweepBroken).map(([f, b]): [number, boolean[]] => [
        Number(f),
        [...b].map((c) => c === '1'),
      ]),
    );
    await sweepRest(ctx, m, m.randomized, sweep);
    for (const [f, b] of sweep)
      measures.sweepBroken[String(f)] = b.map((v) => (v ? '1' : '0')).join('');
    return { kind: 'checks', measures };
  }
  const part = certifyConfiguration(
    cfg,
    { x: ctx.x, labels: ctx.labels, n: ctx.n, nq: ctx.nq },
    ctx.budgets.linf,
    job.method,
  );
  return { kind: 'certify', part };
}

/**
 * Drops from `results` every example candidate the report can no longer show: a configuration's example is its
 * first candidate in plan order (suite entry, then block), so once one is in, later ones are dead weight (a CIFAR-10
 * candidate is two images, tens of kB, and the checkpoint holding the results is rewritten after every job).
 * At most one candidate per configuration remains; the assembled report is unchanged.
 */
export function pruneExamples(setup: JobSetup, results: Record<string, JobResult>): void {
  const best = new Map<string, string>();
  for (const job of planJobs(setup)) {
    if (job.kind !== 'attack') continue;
    const key = jobKey(job);
    const r = results[key];
    if (r?.kind !== 'attack' || !r.example) continue;
    if (best.has(job.config)) results[key] = { ...r, example: null };
    else best.set(job.config, key);
  }
}

/**
 * The configurations' reports and examples from every job's result (keyed by jobKey), assembled in the order a
 * single process would have written them: the same report whichever processes ran the jobs, in whatever order.
 */
export async function assembleJobs(
  setup: JobSetup,
  results: ReadonlyMap<string, JobResult>,
): Promise<{ reports: ConfigReport[]; examples: ImageExample[] }> {
  const { ctx, configs } = setup;
  const jobs = planJobs(setup);
  const missing = jobs.filter((j) => !results.has(jobKey(j)));
  if (missing.length)
    throw new Error(
      `audit: ${missing.length} of ${jobs.length} jobs have no result (first: ${jobKey(missing[0])})`,
    );
  const get = <K extends JobResult['kind']>(job: AuditJob, kind: K) => {
    const r = results.get(jobKey(job))!;
    if (r.kind !== kind) throw new Error(`audit: job ${jobKey(job)} returned a ${r.kind} result`);
    return r as Extract<JobResult, { kind: K }>;
  };
  const reports: ConfigReport[] = [];
  const examples: ImageExample[] = [];
  for (const [ci, cfg] of configs.entries()) {
    const tag = `[${ci + 1}/${configs.length}] ${cfg.name}`;
    const clean = cleanOf(setup, cfg);
    const cleanCorrect = [...clean.cleanCorrect].map((c) => c === '1');
    logClean(ctx, tag, cleanCorrect, clean.zeroGradientShare);
    const attacks: AttackSummary[] = [];
    const brokenBy = new Map<string, boolean[]>();
    let example: ImageExample | null = null;
    for (const entry of ctx.suite) {
      if (!runsOn(entry, cfg.model.randomized)) continue;
      const o = emptyOutcome();
      for (const job of jobs)
        if (job.kind === 'attack' && job.config === cfg.name && job.entry === entry.id) {
          const r = get(job, 'attack');
          appendOutcome(o, decodeOutcome(r.outcome));
          example ??= r.example;
        }
      const { summary, broken } = summarizeEntry(entry, o, cleanCorrect);
      brokenBy.set(entry.id, broken);
      attacks.push(summary);
      ctx.log(entryLine(tag, summary));
    }
    if (example) examples.push(example);
    const measures = get({ kind: 'checks', config: cfg.name }, 'checks').measures;
    const { checks, sweepBroken } = judgeChecks(measures, attacks, clean.zeroGradientShare);
    ctx.log(
      `${tag}: checks ${checks.map((c) => `${c.id} ${c.pass ? 'pass' : 'FLAG'}`).join(', ')}`,
    );
    const report = await assembleConfiguration(ctx, cfg, tag, {
      cleanCorrect,
      zeroShare: clean.zeroGradientShare,
      attacks,
      brokenBy,
      checks,
      sweepBroken,
    });
    if (setup.certify === 'off') reports.push(report);
    else {
      const c = applyCertificates(
        report,
        get({ kind: 'certify', config: cfg.name, method: setup.certify }, 'certify').part,
      );
      ctx.log(
        `${tag}: certified accuracy ${(100 * c.certifiedAccuracy!).toFixed(1)}% (${setup.certify}, ${c.certifySeconds!.toFixed(0)} s); ${c.checks.at(-1)!.evidence}`,
      );
      reports.push(c);
    }
  }
  return { reports, examples };
}

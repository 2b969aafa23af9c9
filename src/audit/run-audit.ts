// Runs the audit (docs/design.md §5): checks what it is asked, draws the seeded test subset, calibrates magnitude
// GI, then audits every configuration in turn (audit-configuration.ts) with a checkpoint after each, resuming
// where a checkpoint says an earlier run stopped, and assembles the report.
import { calibrateMagnitude } from '../defense/index.ts';
import type { ImageSet } from '../nn/index.ts';
import {
  auditConfigurations,
  CONFIGURATION_NAMES,
  CONFIGURATIONS,
  type AuditConfiguration,
} from './configurations.ts';
import type { ValidationRecord } from '../data/index.ts';
import { SUITE, suiteIds, type Budgets } from './attack-suite.ts';
import type { AuditReport } from './report-types.ts';
import { auditSettings, type AuditProgress } from './audit-progress.ts';
import { CASCADE_CHUNK } from './run-entry.ts';
import {
  auditConfiguration,
  runsOn,
  type AuditContext,
  type AuditModel,
} from './audit-configuration.ts';
import { VERDICT_QUERIES } from './verdicts.ts';
import { withCertificates } from './certified-bracket.ts';
import { auditSubset } from './audit-subset.ts';
import type { BoundMethod } from '../verify/index.ts';
import {
  assembleJobs,
  jobKey,
  planJobs,
  pruneExamples,
  runJob,
  type AuditJob,
  type JobResult,
  type JobSetup,
} from './audit-jobs.ts';

/** The certified side's default bound method: CROWN-IBP, tighter than IBP at a few times its cost. */
export const DEFAULT_CERTIFY: BoundMethod = 'crown-ibp';

export { ROBUST_SWEEP_FACTORS, type AuditModel } from './audit-configuration.ts';

export interface AuditInput {
  family: string;
  datasetName: string;
  dense: AuditModel;
  hashed: AuditModel;
  /** The adversarially trained dense model: adds the 'dense AT' configuration. */
  denseAt?: AuditModel;
  /** The adversarially trained hashed model: adds 'hashed AT' and 'hashed AT+GI random'. */
  hashedAt?: AuditModel;
  /** Other models' provenance (a converted model's source), found by weights sha256 for training costs. */
  sources?: { name: string; weightsSha256: string; provenance: Record<string, unknown> }[];
  test: ImageSet;
  n: number;
  nQuery: number;
  seed: number;
  budgets: Budgets;
  /** Suite ids to run (default: the `default` named suite, every entry but the opt-in ones). */
  attacks?: string[];
  /** Named suites (attack-suite.ts NAMED_SUITES, e.g. 'autoattack' or 'default,autoattack'): their entries run, with any of `attacks`. */
  suite?: string;
  /** Magnitude GI's ε; absent = calibrated on `validation` (0.3 pp bound), with the sweep reported. */
  magnitudeEps?: number;
  /** Training rows held out for selection (magnitude GI's calibration); the test split only reports. */
  validation?: ImageSet;
  /** Which training rows `validation` is (recorded with the calibration). */
  validationRecord?: ValidationRecord;
  /**
   * Configuration names to run (default: the five, plus the AT ones whose models are given). A subset makes a
   * part report; parts run side by side in separate processes are joined by mergeAuditReports (merge-reports.ts).
   */
  configurations?: string[];
  /** Images per chunk of the cascades, each chunk checkpointed (default CASCADE_CHUNK, 100; part of the settings). */
  cascadeChunk?: number;
  /** The bound method of the certified side of the bracket (default 'crown-ibp'), or 'off'. */
  certify?: BoundMethod | 'off';
  command: string;
  progress?: (line: string) => void;
  /**
   * Counted progress: called once the work is known (`attack` null; `done` counts the attacks a resumed checkpoint
   * had finished) and after every attack of every configuration, before its checkpoint is written.
   */
  onAttack?: (p: {
    done: number;
    total: number;
    configuration: string;
    attack: string | null;
  }) => void;
  /** Counted progress of a job-cut audit (with `block`): once the jobs are known (`job` null), then after each. */
  onJob?: (p: { done: number; total: number; job: string | null }) => void;
  /** Where an earlier run of this audit stopped (its last checkpoint): done work is skipped, numbers unchanged. */
  resume?: AuditProgress;
  /** Called after every attack and every configuration with where the audit stands (write it atomically). */
  checkpoint?: (progress: AuditProgress) => Promise<void>;
  /**
   * Images per job: cuts the audit into independent jobs (audit-jobs.ts) with streams named by each job, which any
   * process may run in any order (part of the settings; absent, the audit runs as one sequence).
   */
  block?: number;
  /** Who runs the jobs (with `block`): this process, in plan order, by default; a queue's workers, say. */
  executor?: JobExecutor;
  /** Magnitude GI's calibration computed by the process that planned the audit (its jobs' workers reuse it). */
  calibration?: AuditProgress['calibration'];
}

/** Runs an audit's jobs: every job of `jobs`, calling `done` with each result as it arrives (in any order). */
export interface JobExecutor {
  run(
    jobs: AuditJob[],
    done: (job: AuditJob, result: JobResult) => Promise<void>,
    /** The audit's settings and magnitude calibration: what another process needs to rebuild the same audit. */
    audit: { settings: string; calibration: AuditProgress['calibration'] },
  ): Promise<void>;
}

/** This process runs the jobs, one after another in plan order. */
export const inProcessJobs = (setup: JobSetup): JobExecutor => ({
  async run(jobs, done) {
    for (const job of jobs) await done(job, await runJob(setup, job));
  },
});

/**
 * A cascade's row in the JSON report (the autoattack entries): its AttackSummary plus, per component, the
 * images it attacked and broke (by the cascade's own checks), and the robust accuracy over all images of
 * the row by the audit's verdict.
 */
export type { CascadeSummary } from './report-types.ts';

/** An audit's setup: its checked settings, subset, calibration, configurations and the context they share. */
export async function setupAudit(input: AuditInput) {
  const log = input.progress ?? (() => {});
  const t0 = performance.now();
  const { x, y, xq, yq, nq, labels, indexSha256 } = await auditSubset(
    input.test,
    input.seed,
    input.n,
    input.nQuery,
  );
  // Magnitude GI's ε: the largest grid value keeping the hashed model's clean accuracy on the validation split within
  // 0.3 pp (docs/design.md §1.2); the sweep goes into the report as the evidence for what that ε can and cannot do.
  const h = input.hashed.model;
  const wanted = input.configurations;
  const unknown = wanted?.filter((name) => !CONFIGURATION_NAMES.includes(name));
  if (unknown?.length)
    throw new Error(
      `audit: unknown configuration ${unknown.join(', ')} (known: ${CONFIGURATION_NAMES.join(', ')})`,
    );
  if (wanted && wanted.length === 0) throw new Error('audit: no configuration to run');
  // The calibration costs a sweep over the whole validation split: only a run that audits magnitude GI pays for it.
  const needsMagnitude = !wanted || wanted.includes('hashed+GI magnitude');
  // An AT configuration asked for by name needs its model; without one, the default run leaves it out.
  const given = {
    dense: true,
    hashed: true,
    denseAt: Boolean(input.denseAt),
    hashedAt: Boolean(input.hashedAt),
  };
  const missing = CONFIGURATIONS.filter((c) => wanted?.includes(c.name) && !given[c.needs]);
  if (missing.length)
    throw new Error(
      `audit: configuration ${missing.map((c) => `'${c.name}'`).join(', ')} needs the adversarially trained ${missing[0].needs === 'denseAt' ? 'dense model (--dense-at)' : 'hashed model (--hashed-at)'}`,
    );
  if (needsMagnitude && input.magnitudeEps === undefined && !input.validation)
    throw new Error(
      'audit: calibrating magnitude GI needs a validation split (or give magnitudeEps)',
    );
  const ids = suiteIds(input.attacks, input.suite);
  const settings = auditSettings({
    family: input.family,
    dataset: input.datasetName,
    n: input.n,
    nQuery: nq,
    seed: input.seed,
    indexSha256,
    budgets: input.budgets,
    attacks: ids,
    models: {
      dense: input.dense.weightsSha256,
      hashed: input.hashed.weightsSha256,
      denseAt: input.denseAt?.weightsSha256,
      hashedAt: input.hashedAt?.weightsSha256,
    },
    configurations: wanted ?? CONFIGURATION_NAMES,
    magnitudeEps: input.magnitudeEps,
    validation: input.validationRecord,
    ...(input.cascadeChunk !== undefined ? { cascadeChunk: input.cascadeChunk } : {}),
    ...(input.certify !== undefined && input.certify !== DEFAULT_CERTIFY
      ? { certify: input.certify }
      : {}),
    ...(input.block !== undefined ? { block: input.block } : {}),
  });
  if (input.resume && input.resume.settings !== settings) {
    throw new Error(
      `audit: the checkpoint was written with other settings:\n  checkpoint ${input.resume.settings}\n  now        ${settings}`,
    );
  }
  const calibration = input.resume
    ? input.resume.calibration
    : input.calibration !== undefined
      ? input.calibration
      : input.magnitudeEps !== undefined || !needsMagnitude
        ? null
        : {
            ...calibrateMagnitude(h.inputShape, h.layers, h.params, input.validation!),
            ...(input.validationRecord ? { rows: input.validationRecord } : {}),
          };
  const magnitudeEps = input.magnitudeEps ?? calibration?.eps;
  if (calibration)
    log(
      `magnitude GI: ε ${magnitudeEps} (sweep ${calibration.sweep.map((p) => `${p.eps}: ${p.changePp.toFixed(2)} pp`).join(', ')})`,
    );
  // Without magnitude in this part its ε is never used (the stage is built but filtered out below).
  const configs = auditConfigurations(
    input.dense.model,
    h,
    input.hashed.name,
    input.seed,
    magnitudeEps ?? 0,
    {
      dense: input.denseAt?.model,
      hashed: input.hashedAt && { model: input.hashedAt.model, name: input.hashedAt.name },
    },
  ).filter((c) => !wanted || wanted.includes(c.name));
  const inputs: Record<AuditConfiguration['from'], AuditModel | undefined> = {
    dense: input.dense,
    hashed: input.hashed,
    denseAt: input.denseAt,
    hashedAt: input.hashedAt,
  };
  // A converted model's cost includes its source's: any model at hand, found by the sha256 its provenance names.
  const known = [
    ...Object.values(inputs).filter((m): m is AuditModel => Boolean(m?.provenance)),
    ...(input.sources ?? []),
  ];
  const sourceOf = (sha: string) => {
    const m = known.find((k) => k.weightsSha256 === sha);
    return m ? { name: m.name, provenance: m.provenance! } : null;
  };
  const suite = SUITE.filter((e) => ids.includes(e.id));
  // The checkpoint is this object: finished configurations and the current one's attacks are appended to it.
  const progress: AuditProgress = input.resume
    ? structuredClone(input.resume)
    : {
        format: 1,
        settings,
        seconds: 0,
        calibration,
        reports: [],
        examples: [],
        current: null,
        ...(input.block !== undefined ? { jobs: {} } : {}),
      };
  const { reports } = progress;
  const secondsBefore = progress.seconds;
  const save = async () => {
    progress.seconds = secondsBefore + (performance.now() - t0) / 1000;
    await input.checkpoint?.(progress);
  };
  if (input.resume && input.block === undefined)
    log(
      `resuming: ${reports.length} of ${configs.length} configurations done` +
        (progress.current
          ? `, ${progress.current.attacks.length} attacks into '${progress.current.name}'` +
            (progress.current.partial
              ? `, ${progress.current.partial.done} images into ${progress.current.partial.id}`
              : '')
          : ''),
    );
  // The attacks to run, over every configuration of this run, and those a resumed checkpoint has finished.
  const total = configs.reduce(
    (sum, c) => sum + suite.filter((e) => runsOn(e, c.model.randomized)).length,
    0,
  );
  let attacksDone =
    reports.reduce((sum, r) => sum + r.attacks.length, 0) + (progress.current?.attacks.length ?? 0);
  if (input.block === undefined)
    input.onAttack?.({
      done: attacksDone,
      total,
      configuration: progress.current?.name ?? configs[0]?.name ?? '',
      attack: null,
    });
  const ctx: AuditContext = {
    test: input.test,
    x,
    y,
    n: input.n,
    labels,
    xq,
    yq,
    nq,
    budgets: input.budgets,
    seed: input.seed,
    log,
    dense: input.dense.model,
    suite,
    inputs,
    sourceOf,
    progress,
    save,
    cascadeChunk: input.cascadeChunk ?? CASCADE_CHUNK,
    attackDone: (configuration, attack) =>
      input.onAttack?.({ done: ++attacksDone, total, configuration, attack }),
  };
  return {
    log,
    t0,
    x,
    labels,
    nq,
    indexSha256,
    settings,
    calibration,
    magnitudeEps,
    needsMagnitude,
    configs,
    progress,
    secondsBefore,
    save,
    ctx,
  };
}

/** The job setup of an audit cut into jobs (`block` given). */
function jobSetup(input: AuditInput, s: Awaited<ReturnType<typeof setupAudit>>): JobSetup {
  if (input.block === undefined) throw new Error('audit: jobs need a block size');
  return {
    ctx: s.ctx,
    configs: s.configs,
    block: input.block,
    certify: input.certify ?? DEFAULT_CERTIFY,
  };
}

/**
 * Runs the jobs of an audit cut into jobs that have no result yet (those of `shard` i of n only, when given: every
 * n-th job of the plan from the i-th), saving after each; the results are in `progress.jobs`.
 */
async function runJobs(
  input: AuditInput,
  s: Awaited<ReturnType<typeof setupAudit>>,
  shard?: { index: number; count: number },
): Promise<JobSetup> {
  const setup = jobSetup(input, s);
  const results = s.progress.jobs!;
  const plan = planJobs(setup);
  const todo = plan.filter(
    (j, i) => !(jobKey(j) in results) && (!shard || i % shard.count === shard.index),
  );
  const total = shard ? plan.filter((_, i) => i % shard.count === shard.index).length : plan.length;
  s.log(
    `${plan.length} jobs of ${input.block} images or fewer` +
      (shard ? `; shard ${shard.index}/${shard.count}: ${total} of them` : '') +
      `; ${total - todo.length} done before`,
  );
  let done = total - todo.length;
  input.onJob?.({ done, total, job: null });
  await (input.executor ?? inProcessJobs(setup)).run(
    todo,
    async (job, result) => {
      results[jobKey(job)] = result;
      if (result.kind === 'attack' && result.example) pruneExamples(setup, results);
      input.onJob?.({ done: ++done, total, job: jobKey(job) });
      await s.save();
    },
    { settings: s.settings, calibration: s.calibration },
  );
  return setup;
}

/** One shard of an audit cut into jobs: runs its jobs and returns the progress holding their results (no report). */
export async function runAuditJobs(
  input: AuditInput,
  shard: { index: number; count: number },
): Promise<AuditProgress> {
  if (input.block === undefined) throw new Error('audit: a shard needs a block size');
  if (
    !Number.isInteger(shard.count) ||
    shard.count < 1 ||
    shard.index < 0 ||
    shard.index >= shard.count
  )
    throw new Error(`audit: shard ${shard.index}/${shard.count} is not one of 0/n … (n-1)/n`);
  const s = await setupAudit(input);
  await runJobs(input, s, shard);
  s.progress.seconds = s.secondsBefore + (performance.now() - s.t0) / 1000;
  return s.progress;
}

export async function runAudit(input: AuditInput): Promise<AuditReport> {
  const s = await setupAudit(input);
  const { log, t0, x, labels, nq, indexSha256, calibration, magnitudeEps, needsMagnitude } = s;
  const { configs, progress, secondsBefore, save, ctx } = s;
  const { reports, examples } = progress;
  if (input.block !== undefined) {
    const setup = await runJobs(input, s);
    const assembled = await assembleJobs(setup, new Map(Object.entries(progress.jobs!)));
    reports.push(...assembled.reports);
    examples.push(...assembled.examples);
  }
  for (const [ci, cfg] of input.block === undefined ? configs.entries() : []) {
    if (reports.some((r) => r.name === cfg.name)) continue;
    const report = await auditConfiguration(ctx, cfg, ci, configs.length);
    const method = input.certify ?? DEFAULT_CERTIFY;
    if (method === 'off') reports.push(report);
    else {
      const c = withCertificates(
        report,
        cfg,
        { x, labels, n: input.n, nq },
        input.budgets.linf,
        method,
      );
      log(
        `[${ci + 1}/${configs.length}] ${cfg.name}: certified accuracy ${(100 * c.certifiedAccuracy!).toFixed(1)}% (${method}, ${c.certifySeconds!.toFixed(0)} s); ${c.checks.at(-1)!.evidence}`,
      );
      reports.push(c);
    }
    progress.current = null;
    await save();
    // A configuration's compiled chains (wasm arenas, outside the JS heap) are not needed again.
    cfg.model.network.releaseCompiled();
    input.dense.model.releaseCompiled();
  }

  return {
    format: 1,
    family: input.family,
    dataset: input.datasetName,
    command: input.command,
    date: new Date().toISOString(),
    dense: { name: input.dense.name, weightsSha256: input.dense.weightsSha256 },
    hashed: { name: input.hashed.name, weightsSha256: input.hashed.weightsSha256 },
    ...(input.denseAt
      ? { denseAt: { name: input.denseAt.name, weightsSha256: input.denseAt.weightsSha256 } }
      : {}),
    ...(input.hashedAt
      ? { hashedAt: { name: input.hashedAt.name, weightsSha256: input.hashedAt.weightsSha256 } }
      : {}),
    weightsSha256: input.hashed.weightsSha256,
    n: input.n,
    nQuery: nq,
    seed: input.seed,
    indexSha256,
    budgets: input.budgets,
    verdictQueries: VERDICT_QUERIES,
    ...(magnitudeEps !== undefined && needsMagnitude
      ? { magnitude: { eps: magnitudeEps, calibration } }
      : {}),
    configurations: reports,
    examples,
    seconds: secondsBefore + (performance.now() - t0) / 1000,
  };
}

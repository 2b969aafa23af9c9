// One configuration's audit (docs/design.md §5): its clean verdicts, every attack of the suite with a checkpoint
// after each, the paper table, the adaptive worst case, robust accuracy and its ε sweep, the masking checks, and
// the weights, size and training cost of the model behind it.
import { median } from '../attacks/index.ts';
import { sha256Hex } from '../hash/index.ts';
import { layerTensors, encodeSafetensors, type Sequential } from '../nn/index.ts';
import type { Tensor } from '../tensor/index.ts';
import type { DefendedModel } from '../defense/index.ts';
import type { SuiteEntry } from './attack-suite.ts';
import type { AuditProgress } from './audit-progress.ts';
import type { AuditConfiguration } from './configurations.ts';
import {
  maskingChecks,
  sweepPoint,
  zeroGradientShare,
  type QuerySubset,
} from './masking-checks.ts';
import type { AttackSummary, CascadeSummary, Check, ConfigReport } from './report-types.ts';
import { adversarialMethod, trainingCost, withHarden } from './training-cost.ts';
import { runEntry, type EntryOutcome } from './run-entry.ts';
import { rate, verdicts } from './verdicts.ts';

/** One model an audit loads; `provenance` (model.json's) gives its training cost and adversarial training. */
export interface AuditModel {
  name: string;
  model: Sequential;
  weightsSha256: string;
  provenance?: Record<string, unknown>;
}

/** The ε multiples of the budget where robust accuracy is swept (ConfigReport.robustSweep). */
export const ROBUST_SWEEP_FACTORS = [0, 0.25, 0.5, 0.75, 1, 1.25] as const;

/** What every configuration of one audit shares: its images, suite and models, and the checkpoint it extends. */
export interface AuditContext extends QuerySubset {
  /** The audit's subset: all n images and their labels (`labels`, from QuerySubset). */
  x: Tensor;
  y: Tensor;
  n: number;
  /** The dense model (the transfer attack's source). */
  dense: Sequential;
  suite: readonly SuiteEntry[];
  /** The models configurations are built from, by AuditConfiguration['from']. */
  inputs: Record<AuditConfiguration['from'], AuditModel | undefined>;
  /** A model's name and provenance by weights sha256 (a converted model's source, for its training cost). */
  sourceOf: (sha: string) => { name: string; provenance: Record<string, unknown> } | null;
  /** The checkpoint object: the configuration under way is kept in `progress.current`. */
  progress: AuditProgress;
  /** Writes the checkpoint (after every attack, and every chunk of a chunked one). */
  save: () => Promise<void>;
  /** Images per chunk of the chunked entries (the cascades). */
  cascadeChunk: number;
  /** Told after every attack of the suite finishes, before its checkpoint is written. */
  attackDone?: (configuration: string, attack: string) => void;
}

/** Whether a suite entry runs on a configuration: some run on randomized models only, some on deterministic ones. */
export function runsOn(entry: SuiteEntry, randomized: boolean): boolean {
  return !((entry.randomizedOnly && !randomized) || (entry.deterministicOnly && randomized));
}

/** Per image, '1' where `hits` is true: compact enough for n = 1000, and anyone can recompute a worst case from it. */
const bits = (hits: readonly boolean[]) => hits.map((h) => (h ? '1' : '0')).join('');

/**
 * The weights a configuration attacks, serialized exactly as saveModelDir writes weights.safetensors (same
 * tensor order, same encoder): its sha256 is what `harden` would record for the edited weights and what the
 * server matches, its length the file's size.
 */
async function weightsIdentity(
  net: Sequential,
): Promise<{ weightsSha256: string; weightsBytes: number; storedParameters: number }> {
  const bytes = encodeSafetensors(
    net.layers
      .flatMap(layerTensors)
      .map(({ name }): [string, Tensor] => [name, net.params.get(name)!]),
  );
  return {
    weightsSha256: await sha256Hex(bytes),
    weightsBytes: bytes.length,
    storedParameters: net.parameterCount(),
  };
}

/** A configuration's clean verdicts (by the audit's verdict rule) and its zero-gradient share, in that order of draws. */
export function cleanStep(
  ctx: Pick<AuditContext, 'x' | 'y' | 'labels'>,
  m: DefendedModel,
): { cleanCorrect: string; zeroGradientShare: number } {
  const cleanCorrect = verdicts(m, ctx.x, ctx.labels).majority.map((w) => !w);
  return {
    cleanCorrect: bits(cleanCorrect),
    zeroGradientShare: zeroGradientShare(m, ctx.x, ctx.y),
  };
}

/** An entry's row of the report from its outcome on its subset, and the per-image verdicts it adds to the worst case. */
export function summarizeEntry(
  entry: SuiteEntry,
  o: EntryOutcome,
  cleanCorrect: readonly boolean[],
): { summary: AttackSummary; broken: boolean[] } {
  const count = o.done;
  const correct = cleanCorrect.slice(0, count);
  const broken = o.majority.map((b, i) => b && correct[i]);
  const okNorms = o.success.map((s, i) => (s ? i : -1)).filter((i) => i >= 0);
  const summary: AttackSummary = {
    id: entry.id,
    name: o.name,
    describe: entry.describe,
    table: entry.table,
    norm: entry.norm,
    n: count,
    successRate: rate(o.majority, correct),
    successAny: rate(o.any, correct),
    successSingle: rate(o.single, correct),
    medianL2: median(okNorms.map((i) => o.l2[i])),
    medianLinf: median(okNorms.map((i) => o.linf[i])),
    medianQueries: median(o.queries),
    seconds: o.seconds,
    broken: bits(broken),
  };
  // A cascade (AutoAttack) also reports what each component broke, and its robust accuracy by the verdict.
  if (!o.components) return { summary, broken };
  const cascade = {
    components: o.components,
    robustAccuracy: correct.filter((c, i) => c && !broken[i]).length / count,
  };
  const row: CascadeSummary = { ...summary, cascade };
  return { summary: row, broken };
}

/** The log line of one finished entry. */
export function entryLine(tag: string, s: AttackSummary): string {
  const cascade = (s as CascadeSummary).cascade;
  return (
    `${tag}: ${s.id} ${(100 * s.successRate).toFixed(1)}% on ${s.n} (${s.seconds.toFixed(1)} s)` +
    (cascade
      ? `; broken by ${cascade.components.map((c) => `${c.name} ${c.broken}/${c.attacked}`).join(', ')}; robust accuracy ${(100 * cascade.robustAccuracy).toFixed(1)}%`
      : '')
  );
}

/** The robust-sweep factors the masking checks' own sweep leaves out: run after the checks, in this order. */
export async function sweepRest(
  ctx: AuditContext,
  m: DefendedModel,
  randomized: boolean,
  sweepBroken: Map<number, boolean[]>,
): Promise<void> {
  for (const f of ROBUST_SWEEP_FACTORS)
    if (f > 0 && !sweepBroken.has(f))
      sweepBroken.set(f, (await sweepPoint(ctx, m, randomized, f)).broken);
}

/** Audits configuration `ci` of `total`, resuming from `ctx.progress.current` when it is this one. */
export async function auditConfiguration(
  ctx: AuditContext,
  cfg: AuditConfiguration,
  ci: number,
  total: number,
): Promise<ConfigReport> {
  const { progress, log } = ctx;
  const tag = `[${ci + 1}/${total}] ${cfg.name}`;
  const m = cfg.model;
  const randomized = m.randomized;
  let current = progress.current?.name === cfg.name ? progress.current : null;
  if (current) {
    m.resumeSeeds(current.seedsDrawn);
  } else {
    current = { name: cfg.name, seedsDrawn: 0, ...cleanStep(ctx, m), attacks: [] };
    current.seedsDrawn = m.seedsDrawn;
    progress.current = current;
  }
  const cleanCorrect = [...current.cleanCorrect].map((c) => c === '1');
  const zeroShare = current.zeroGradientShare;
  logClean(ctx, tag, cleanCorrect, zeroShare);
  // Attacks already run (before an interruption) come from the checkpoint, with their per-image verdicts.
  const attacks: AttackSummary[] = current.attacks;
  const brokenBy = new Map<string, boolean[]>(
    attacks.map((a) => [a.id, [...a.broken!].map((c) => c === '1')]),
  );
  for (const entry of ctx.suite) {
    if (!runsOn(entry, randomized)) continue;
    if (brokenBy.has(entry.id)) continue;
    const o = await runEntry(ctx, cfg.name, m, entry, current, cleanCorrect);
    const { summary, broken } = summarizeEntry(entry, o, cleanCorrect);
    brokenBy.set(entry.id, broken);
    attacks.push(summary);
    log(entryLine(tag, summary));
    current.seedsDrawn = m.seedsDrawn;
    ctx.attackDone?.(cfg.name, entry.id);
    await ctx.save();
  }
  const { checks, sweepBroken } = await maskingChecks(ctx, m, attacks, zeroShare, randomized, tag);
  // The robust-accuracy sweep reuses the monotone check's three PGD runs; the other points run after every
  // check, so the randomized model's query counter (hence every earlier number) is what it was before.
  await sweepRest(ctx, m, randomized, sweepBroken);
  return assembleConfiguration(ctx, cfg, tag, {
    cleanCorrect,
    zeroShare,
    attacks,
    brokenBy,
    checks,
    sweepBroken,
  });
}

/** The clean accuracy line of a configuration. */
export function logClean(
  ctx: Pick<AuditContext, 'n' | 'log'>,
  tag: string,
  cleanCorrect: readonly boolean[],
  zeroShare: number,
): void {
  ctx.log(
    `${tag}: clean accuracy ${((100 * cleanCorrect.filter(Boolean).length) / ctx.n).toFixed(2)}%, zero gradients ${(100 * zeroShare).toFixed(1)}%`,
  );
}

/** Everything a configuration's report is computed from once its attacks and checks have run. */
export interface ConfigurationParts {
  cleanCorrect: boolean[];
  zeroShare: number;
  /** The suite's rows in suite order. */
  attacks: AttackSummary[];
  brokenBy: Map<string, boolean[]>;
  checks: Check[];
  /** Per robust-sweep factor > 0, the per-image verdicts of its PGD run. */
  sweepBroken: Map<number, boolean[]>;
}

/** A configuration's report from its parts: worst cases, robust accuracy and its sweep, weights and training cost. */
export async function assembleConfiguration(
  ctx: AuditContext,
  cfg: AuditConfiguration,
  tag: string,
  parts: ConfigurationParts,
): Promise<ConfigReport> {
  const { n, nq, log } = ctx;
  const { cleanCorrect, zeroShare, attacks, brokenBy, checks, sweepBroken } = parts;
  const m = cfg.model;
  const randomized = m.randomized;
  const paper = attacks.filter((a) => a.table === 'paper');
  const adaptive = attacks.filter((a) => a.table === 'adaptive');
  const worst = (ids: string[], count: number) => {
    const hit = Array.from({ length: count }, (_, i) => ids.some((id) => brokenBy.get(id)?.[i]));
    return rate(hit, cleanCorrect.slice(0, count));
  };
  const adaptiveFull = adaptive.filter((a) => a.n === n).map((a) => a.id);
  // Robust = clean-correct and broken by none of the attacks (each image judged by the attacks that ran on
  // it: images past the first nQuery by the full-subset ones only), over ALL n images.
  const robustShare = (attackIds: string[], count: number) =>
    cleanCorrect
      .slice(0, count)
      .filter((c, i) => c && !attackIds.some((id) => brokenBy.get(id)?.[i])).length / count;
  // Robust accuracy is a claim in one threat model, L∞ at the budget's ε: the L2 (C&W, HopSkipJump) and L0
  // (JSMA) rows stay in the tables and in the worst-case success rates, not in it.
  const linf = (list: AttackSummary[]) =>
    list.filter((a) => (a.norm ?? 'linf') === 'linf').map((a) => a.id);
  const robustSweep = ROBUST_SWEEP_FACTORS.map((f) => ({
    eps: ctx.budgets.linf * f,
    robustAccuracy:
      cleanCorrect.slice(0, nq).filter((c, i) => c && !(f > 0 && sweepBroken.get(f)![i])).length /
      nq,
  }));
  const net = await weightsIdentity(m.network);
  const source = ctx.inputs[cfg.from]!;
  const ownCost = trainingCost(source.name, source.provenance, ctx.sourceOf);
  const report: ConfigReport = {
    name: cfg.name,
    stages: cfg.stages,
    randomized,
    cleanAccuracy: cleanCorrect.filter(Boolean).length / n,
    zeroGradientShare: zeroShare,
    attacks,
    paperAverage: paper.length ? paper.reduce((s, a) => s + a.successRate, 0) / paper.length : null,
    adaptiveWorstCase: {
      full: { n, attacks: adaptiveFull, successRate: worst(adaptiveFull, n) },
      query: {
        n: nq,
        attacks: adaptive.map((a) => a.id),
        successRate: worst(
          adaptive.map((a) => a.id),
          nq,
        ),
      },
    },
    checks,
    robustAccuracy: robustShare(linf(adaptive), n),
    robustAccuracyQuery: robustShare(linf(adaptive), nq),
    reportedRobustAccuracy: robustShare(linf(paper), n),
    robustSweep,
    cleanCorrect: bits(cleanCorrect),
    model: source.name,
    ...net,
    adversarialTraining: adversarialMethod(source.provenance),
    trainingCost: cfg.stages.length ? withHarden(ownCost, cfg.name) : ownCost,
  };
  log(
    `${tag}: robust accuracy ${(100 * report.robustAccuracy!).toFixed(1)}% (paper-era evaluation would report ${(100 * report.reportedRobustAccuracy!).toFixed(1)}%); ` +
      `sweep ${robustSweep.map((p) => `${p.eps.toFixed(3)}: ${(100 * p.robustAccuracy).toFixed(1)}%`).join(', ')}`,
  );
  return report;
}

// Where an unfinished audit stands (the finished configurations, the attacks done in the current one, the seed
// counter of its randomized model), so a run killed after hours resumes where it stopped with the same numbers.
import type { MagnitudeCalibration } from '../defense/index.ts';
import type { CertifiedPart } from './certified-bracket.ts';
import type { CheckMeasures } from './masking-checks.ts';
import type { AttackSummary, AuditReport, ConfigReport, ImageExample } from './report-types.ts';

export interface AuditProgress {
  format: 1;
  /** Everything that must match for a resumed audit to equal an uninterrupted one (auditSettings). */
  settings: string;
  /** Compute time spent so far, over every process that worked on this audit. */
  seconds: number;
  /** Magnitude GI's calibration, computed once (null when this audit does not run magnitude GI). */
  calibration: MagnitudeCalibration | null;
  reports: ConfigReport[];
  examples: AuditReport['examples'];
  /** The configuration under way: its clean verdicts, zero-gradient share, finished attacks and seed counter. */
  current: {
    name: string;
    seedsDrawn: number;
    cleanCorrect: string;
    zeroGradientShare: number;
    attacks: AttackSummary[];
    /** The entry under way when it runs in chunks (the cascades): what its finished chunks did. */
    partial?: EntryPartial;
  } | null;
  /** An audit cut into jobs (AuditInput.block): every finished job's result by its key (audit-jobs.ts jobKey). */
  jobs?: Record<string, JobResult>;
}

/** What an audit job returns (audit-jobs.ts): plain JSON, so it travels through a queue or a part file unchanged. */
export type JobResult =
  | { kind: 'attack'; outcome: EntryPartial; example: ImageExample | null }
  | { kind: 'checks'; measures: CheckMeasures }
  | { kind: 'certify'; part: CertifiedPart };

/** A chunked entry's outcome so far (run-entry.ts EntryOutcome, per-image verdicts as '0'/'1' strings). */
export interface EntryPartial {
  id: string;
  name: string;
  done: number;
  seconds: number;
  success: string;
  majority: string;
  any: string;
  single: string;
  l2: number[];
  linf: number[];
  queries: number[];
  components: { name: string; attacked: number; broken: number }[] | null;
}

/** The settings an audit's numbers depend on, as one canonical string. */
export function auditSettings(s: {
  family: string;
  dataset: string;
  models: Record<string, string | undefined>;
  n: number;
  nQuery: number;
  seed: number;
  indexSha256: string;
  budgets: unknown;
  attacks: readonly string[];
  configurations: readonly string[];
  magnitudeEps?: number;
  validation?: unknown;
  /** Images per chunk of the cascades, when not the default (the default leaves it out). */
  cascadeChunk?: number;
  /** The certified side's bound method, when not the default (the default leaves it out). */
  certify?: string;
  /** Images per job of an audit cut into jobs (absent: one sequence). */
  block?: number;
}): string {
  return JSON.stringify(s);
}

// The audit report's data (written as JSON; Markdown and HTML are rendered from it).
import type { GiStage } from '../defense/defense-spec.ts';
import type { Budgets } from './attack-suite.ts';

export interface AttackSummary {
  id: string;
  name: string;
  describe: string;
  table: 'paper' | 'adaptive';
  /** Images attacked (all n, or the first nQuery for query-based attacks). */
  n: number;
  /** Share of clean-correct images misclassified (randomized models: by most of 10 fresh queries). */
  successRate: number;
  /** Randomized models: misclassified by any of 10 queries / by a single query (equal to successRate otherwise). */
  successAny: number;
  successSingle: number;
  medianL2: number;
  medianLinf: number;
  medianQueries: number;
  seconds: number;
}

export interface Check {
  id: string;
  pass: boolean;
  evidence: string;
  sweep?: { eps: number; successRate: number }[];
}

export interface ConfigReport {
  name: string;
  stages: GiStage[];
  randomized: boolean;
  cleanAccuracy: number;
  zeroGradientShare: number;
  attacks: AttackSummary[];
  /** Mean success rate of the paper-era attacks. */
  paperAverage: number | null;
  /** Share of clean-correct images broken by at least one adaptive attack (per-example worst case). */
  adaptiveWorstCase: { full: { n: number; attacks: string[]; successRate: number }; query: { n: number; attacks: string[]; successRate: number } };
  checks: Check[];
}

export interface AuditReport {
  format: 1;
  family: string;
  dataset: string;
  command: string;
  date: string;
  dense: { name: string; weightsSha256: string };
  hashed: { name: string; weightsSha256: string };
  /** The audited (hashed) model's weights hash: what the server's /robustness endpoint matches. */
  weightsSha256: string;
  n: number;
  nQuery: number;
  seed: number;
  /** sha256 of the subset's index list (u32 little-endian): the exact images attacked. */
  indexSha256: string;
  budgets: Budgets;
  verdictQueries: number;
  configurations: ConfigReport[];
  /** One broken image per configuration (clean and adversarial pixels) for the HTML grid. */
  examples: { config: string; attack: string; clean: number[]; adversarial: number[]; shape: number[]; label: number; prediction: number }[];
  seconds: number;
}

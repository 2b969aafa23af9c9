// The audit report's data (written as JSON; Markdown and HTML are rendered from it).
import type { GiStage, MagnitudeCalibration } from '../defense/index.ts';
import type { Budgets } from './attack-suite.ts';
import type { TrainingCost } from './training-cost.ts';

export interface AttackSummary {
  id: string;
  name: string;
  describe: string;
  table: 'paper' | 'adaptive';
  /** Its threat model (absent in reports made before it was recorded: read as L∞ unless the id is jsma, cw, cw-logits or hsj). */
  norm?: 'linf' | 'l2' | 'l0';
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
  /**
   * Per image of the attacked subset (character i = image i: all n, or the first nQuery), '1' where the image
   * counts as broken: clean-correct and misclassified by the verdict. Absent in reports written before it existed.
   */
  broken?: string;
}

/** An AutoAttack cascade's row: what each component attacked and broke, and the robust accuracy by its verdict. */
export type CascadeSummary = AttackSummary & {
  cascade: {
    components: { name: string; attacked: number; broken: number }[];
    robustAccuracy: number;
  };
};

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
  adaptiveWorstCase: {
    full: { n: number; attacks: string[]; successRate: number };
    query: { n: number; attacks: string[]; successRate: number };
  };
  checks: Check[];
  // The fields below are absent in reports written before the side-by-side audit (renderers show a dash).
  /**
   * Share of ALL n images still correctly classified under the per-image worst case over every adaptive L∞ attack
   * that ran (the autoattack cascade's row included; the L2 rows are not in it): clean-correct (by the verdict)
   * and broken by none of them.
   * Images past the first nQuery are judged by the full-subset attacks only (the query-based ones did not run on them).
   */
  robustAccuracy?: number;
  /** The same over the first nQuery images, where every adaptive attack ran. */
  robustAccuracyQuery?: number;
  /**
   * What a paper-era evaluation reports: the share of all n images clean-correct and broken by none of the
   * paper-era L∞ attacks (FGSM, BIM; per-image worst case, same rules). paperAverage averages all four (JSMA and C&W-L2 too).
   */
  reportedRobustAccuracy?: number;
  /**
   * Robust accuracy on the first nQuery images at ε = factor × the L∞ budget, factors 0, 0.25, 0.5, 0.75, 1, 1.25:
   * PGD with the CW margin loss (steps × factor·α, uniform start; EOT(4), κ 5, every step for randomized
   * configurations), the monotone-in-eps check's attack, whose 0.25/0.5/1 runs it reuses. ε 0 is clean accuracy.
   */
  robustSweep?: { eps: number; robustAccuracy: number }[];
  /** How certifiedAccuracy was computed: the bound method of src/verify ('ibp', 'crown-ibp' or 'crown'). */
  certifiedMethod?: string;
  /**
   * Share of ALL n images certified at the L∞ budget: no perturbation within ε changes the answer (for a random
   * stage, for every logit scale and every noise draw within ±5σ). The lower side of the bracket:
   * certifiedAccuracy ≤ robustAccuracy ≤ cleanAccuracy, checked image by image (check certified-never-broken).
   */
  certifiedAccuracy?: number;
  /** Per image of all n, '1' where certified at the budget. */
  certified?: string;
  /** Certified accuracy on the first nQuery images at robustSweep's ε values. */
  certifiedSweep?: { eps: number; certifiedAccuracy: number }[];
  /** Seconds the certificates took (all n at the budget, the sweep on the query subset). */
  certifySeconds?: number;
  /** Per image of all n, '1' where the clean check counts it correct (the verdict): robustAccuracy recomputes from it and the attacks' `broken`. */
  cleanCorrect?: string;
  /** The model the configuration is built from (the GI configurations: their source). */
  model?: string;
  /**
   * sha256 of the weights attacked, encoded as weights.safetensors (for a GI scale / magnitude configuration
   * the edited weights, which `harden` would write; a query-time random stage leaves its source's weights).
   */
  weightsSha256?: string;
  /** Bytes of that weights.safetensors (header + 4 bytes per float32 stored weight). */
  weightsBytes?: number;
  /** Stored weights (every tensor's elements: a hashed layer's real weights, not its virtual matrix; biases included). */
  storedParameters?: number;
  /** The adversarial-training method the model's provenance records (e.g. 'pgd:eps=0.3,steps=10,…'), else null. */
  adversarialTraining?: string | null;
  /** Training cost in CPU-minutes from the model's provenance (training-cost.ts says how). */
  trainingCost?: TrainingCost;
}

/** A broken image of the audit (an adaptive attack's first success on a configuration), drawn in the HTML grid. */
export interface ImageExample {
  config: string;
  attack: string;
  clean: number[];
  adversarial: number[];
  shape: number[];
  label: number;
  prediction: number;
}

export interface AuditReport {
  format: 1;
  family: string;
  dataset: string;
  command: string;
  /** The command that added the certified side to a finished report (--add-certificates), when one did. */
  certifyCommand?: string;
  date: string;
  dense: { name: string; weightsSha256: string };
  hashed: { name: string; weightsSha256: string };
  /** The adversarially trained models, where given (--dense-at, --hashed-at). */
  denseAt?: { name: string; weightsSha256: string };
  hashedAt?: { name: string; weightsSha256: string };
  /**
   * The audited (hashed) model's weights hash: what the server's /robustness endpoint matches, as it does any
   * configuration's weightsSha256.
   */
  weightsSha256: string;
  n: number;
  nQuery: number;
  seed: number;
  /** sha256 of the subset's index list (u32 little-endian): the exact images attacked. */
  indexSha256: string;
  budgets: Budgets;
  verdictQueries: number;
  /** Magnitude GI's ε and, where the audit chose it, the calibration sweep (accuracy change per grid ε). */
  magnitude?: { eps: number; calibration: MagnitudeCalibration | null };
  configurations: ConfigReport[];
  /** One broken image per configuration (clean and adversarial pixels) for the HTML grid. */
  examples: ImageExample[];
  /** Seconds of computation (a merged report: the parts' sum). */
  seconds: number;
  /** A merged report (merge-reports.ts): the part runs behind it, run side by side in separate processes. */
  parts?: {
    command: string;
    /** The --add-certificates command that gave this part its certified side, when one did. */
    certifyCommand?: string;
    configurations: string[];
    seconds: number;
  }[];
}

/** One black-box attack of a remote audit at one L∞ budget (AttackSummary's fields, minus the table). */
export interface RemoteAttackSummary extends Omit<AttackSummary, 'table'> {
  norm: 'linf';
  eps: number;
  /** Server queries of the runs behind this row (verdicts included; HopSkipJump's rows share one run). */
  queries: number;
  /** Why fewer images than asked were attacked (a budget's message), or null. */
  stopped: string | null;
}

/**
 * A black-box audit of a running server through its public API (`bun run audit -- --url …`): what the
 * server reveals, clean accuracy, and Square (scores) or HopSkipJump (labels) per L∞ budget. The served
 * weights' hash sits under `server`, not at the top level, so /robustness never serves it as the full audit.
 */
export interface RemoteAuditReport {
  format: 1;
  kind: 'remote';
  server: {
    url: string;
    model: string;
    access: 'scores' | 'labels';
    scores: 'probabilities' | 'logits' | null;
    randomized: boolean;
    backend: string | null;
    weightsSha256: string | null;
    defense: unknown;
  };
  dataset: string;
  command: string;
  date: string;
  /** Images asked for, seed, and the sha256 of their index list (null when the caller chose the images). */
  n: number;
  seed: number;
  indexSha256: string | null;
  /** Fresh queries per verdict: 10 for a randomized model (most of them must misclassify), else 1. */
  verdictQueries: number;
  /** null when a budget ended the audit before the clean check. */
  cleanAccuracy: number | null;
  attacks: RemoteAttackSummary[];
  checks: Check[];
  /** Rows the server answered for this audit, in all. */
  queries: number;
  /** Set when a budget (the server's 429 or the client's) ended the audit early. */
  stopped: string | null;
  seconds: number;
}

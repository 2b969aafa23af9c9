// A model's training cost in CPU-minutes, read from its model.json provenance (docs/design.md §5): training
// epochs, convert fine-tuning, and the source model's cost for converted models when that source is at hand.

/** The cost of one configuration's model, with the pieces it was summed from. */
export interface TrainingCost {
  /**
   * Σ over the training and fine-tuning epochs of (the epoch's wall-clock seconds × the run's worker threads) / 60,
   * plus the source model's cpuMinutes for a converted model; null when the provenance records no epoch times.
   */
  cpuMinutes: number | null;
  /** false when a converted model's source provenance was not available: cpuMinutes then omits the source. */
  complete: boolean;
  items: {
    model: string;
    stage: 'train' | 'finetune' | 'harden';
    epochs: number;
    threads: number;
    cpuMinutes: number | null;
    basis: string;
  }[];
}

/** How cpuMinutes is computed, for the reports. */
export const TRAINING_COST_METHOD =
  "CPU-minutes = Σ over the model's training epochs (provenance.history) and convert fine-tuning epochs (provenance.finetune.history) " +
  "of the epoch's wall-clock seconds × the run's worker threads (absent: 1, the models trained before --threads existed ran in one thread), " +
  "or secondsPerEpoch × epochs where no history is recorded; a converted model adds its source model's cost when that model is available " +
  "(otherwise the number is a lower bound, shown as ≥); a GI configuration costs its source model's training plus the post-hoc edit (≈ 0). " +
  'Wall-clock × threads counts every worker busy for the whole epoch: an upper bound on the CPU time actually used.';

type Provenance = Record<string, unknown>;
interface Run {
  history?: unknown;
  threads?: unknown;
  secondsPerEpoch?: unknown;
  epochs?: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** One training run's CPU-minutes: epoch seconds × threads, or secondsPerEpoch × epochs, or null. */
function runCost(
  run: Run,
  fallbackEpochs: number,
): { cpuMinutes: number | null; epochs: number; threads: number; basis: string } {
  const threads = typeof run.threads === 'number' && run.threads >= 1 ? run.threads : 1;
  const history = Array.isArray(run.history) ? run.history.filter(isObject) : [];
  const secs = history
    .map((h) => h.seconds)
    .filter((s): s is number => typeof s === 'number' && Number.isFinite(s));
  if (secs.length && secs.length === history.length) {
    return {
      cpuMinutes: (secs.reduce((a, b) => a + b, 0) * threads) / 60,
      epochs: secs.length,
      threads,
      basis: `${secs.length} epoch times × ${threads} thread${threads > 1 ? 's' : ''}`,
    };
  }
  const epochs = typeof run.epochs === 'number' ? run.epochs : fallbackEpochs;
  if (typeof run.secondsPerEpoch === 'number' && Number.isFinite(run.secondsPerEpoch)) {
    return {
      cpuMinutes: (run.secondsPerEpoch * epochs * threads) / 60,
      epochs,
      threads,
      basis: `secondsPerEpoch ${run.secondsPerEpoch} × ${epochs} epochs × ${threads} thread${threads > 1 ? 's' : ''}`,
    };
  }
  return { cpuMinutes: null, epochs, threads, basis: 'no epoch times recorded' };
}

/**
 * The cost of the model `name` with `provenance`. `source(sha)` returns the provenance (and name) of a model by
 * its weights sha256, or null when that model is not at hand; converted models follow it (at most 8 deep).
 * A null provenance (not known) gives cpuMinutes null.
 */
export function trainingCost(
  name: string,
  provenance: Provenance | null | undefined,
  source: (weightsSha256: string) => { name: string; provenance: Provenance } | null = () => null,
  depth = 0,
): TrainingCost {
  if (!provenance) return { cpuMinutes: null, complete: false, items: [] };
  const items: TrainingCost['items'] = [];
  let complete = true;
  const converted = isObject(provenance.convertedFrom) ? provenance.convertedFrom : null;
  if (converted) {
    const sha = typeof converted.weightsSha256 === 'string' ? converted.weightsSha256 : '';
    const src = depth < 8 ? source(sha) : null;
    if (src) {
      const c = trainingCost(src.name, src.provenance, source, depth + 1);
      items.push(...c.items);
      complete &&= c.complete;
    } else {
      complete = false;
    }
    // convert itself (the least-squares projection) takes seconds; only its fine-tuning is counted.
    if (isObject(provenance.finetune)) {
      const c = runCost(provenance.finetune as Run, 0);
      items.push({ model: name, stage: 'finetune', ...c });
    }
  } else {
    const c = runCost({ ...(provenance as Run), epochs: provenance.epochs }, 0);
    items.push({ model: name, stage: 'train', ...c });
  }
  const known = items.every((i) => i.cpuMinutes !== null);
  return {
    cpuMinutes: known && items.length ? items.reduce((s, i) => s + i.cpuMinutes!, 0) : null,
    complete: complete && known,
    items,
  };
}

/** A GI configuration's cost: its source's, plus the post-hoc edit (recorded as 0: a weight edit in milliseconds). */
export function withHarden(cost: TrainingCost, name: string): TrainingCost {
  return {
    ...cost,
    items: [
      ...cost.items,
      {
        model: name,
        stage: 'harden',
        epochs: 0,
        threads: 1,
        cpuMinutes: 0,
        basis: 'post-hoc GI edit, no training',
      },
    ],
  };
}

/** The adversarial-training method a model's provenance records (train, or convert's fine-tuning), else null. */
export function adversarialMethod(provenance: Provenance | null | undefined): string | null {
  const adv =
    provenance?.adversarial ??
    (isObject(provenance?.finetune)
      ? (provenance.finetune as Record<string, unknown>).adversarial
      : undefined);
  if (!isObject(adv)) return null;
  return typeof adv.method === 'string' ? adv.method : JSON.stringify(adv);
}

// The epoch loop shared by `train` and `convert --finetune-epochs`: live progress, SIGINT between steps,
// an atomic checkpoint after every epoch, and --resume from it with the same settings only; and the two
// commands' common way in (the flags' settings, worker threads) and out (what model.json records of the run).
import { existsSync } from 'node:fs';
import type { Dataset } from '../data/index.ts';
import {
  loadCheckpoint,
  saveCheckpoint,
  type CheckpointState,
  type EpochRecord,
} from '../io/index.ts';
import {
  pgdAccuracy,
  gatherBatch,
  identityOrder,
  accuracy,
  type Optimizer,
  type OptimizerConfig,
  optimizerFromConfig,
  Sequential,
  trainEpoch,
  type TrainOptions,
} from '../nn/index.ts';
import type { Tensor } from '../tensor/index.ts';
import { certify } from '../verify/index.ts';
import { onInterrupt, setExitCode } from '../runtime/index.ts';
import type { RobustTraining } from './adversarial-flags.ts';
import { UsageError } from './args.ts';
import { formatDuration, type ProgressSink } from './progress.ts';
import { withWorkers } from './threads-flag.ts';

export interface TrainingRun {
  model: Sequential;
  optimizer: Optimizer;
  train: Dataset;
  /** Held-out training rows: per-epoch accuracy, the robust check and collapse detection look only here. */
  validation: Dataset | null;
  opts: TrainOptions;
  /** Rows of the validation split (its first ones) that PGD attacks after each epoch of adversarial training. */
  robustCheckRows?: number;
  /** Replaces the PGD-20 robust check (tests drive the collapse logic with it); default: pgdAccuracy on the batch. */
  robustCheck?: (model: Sequential) => number;
  checkpoint: string;
  /** Everything that must match for a resumed run to equal an uninterrupted one. */
  config: Record<string, unknown>;
  resume: boolean;
  sink: ProgressSink;
}

/** Thrown from the step callback when SIGINT arrives: the run stops between steps, checkpoints intact. */
class Interrupted extends Error {}

/**
 * Catastrophic overfitting (Wong et al. 2020): PGD accuracy on the validation batch falls more than this far
 * below the best epoch's. Their runs show it as a cliff (e.g. 38% → 0% in one epoch), not a slow slide.
 */
export const COLLAPSE_DROP = 0.2;

export interface TrainingOutcome {
  history: EpochRecord[];
  best?: CheckpointState['best'];
  collapse?: CheckpointState['collapse'];
}

/** Runs the remaining epochs; returns the history, or null when interrupted (exit code set to 130). */
export async function runTraining(run: TrainingRun): Promise<TrainingOutcome | null> {
  const { model, optimizer, opts, checkpoint, config, sink } = run;
  let history: EpochRecord[] = [];
  let best: CheckpointState['best'];
  let bestParams: Map<string, Tensor> | undefined;
  let collapse: CheckpointState['collapse'];
  if (run.resume) {
    if (!existsSync(checkpoint)) throw new UsageError(`--resume: no checkpoint at ${checkpoint}`);
    const ck = await loadCheckpoint(checkpoint);
    if (JSON.stringify(ck.state.config) !== JSON.stringify(config)) {
      throw new UsageError(
        `--resume: ${checkpoint} was written with other settings:\n  checkpoint ${JSON.stringify(ck.state.config)}\n  now        ${JSON.stringify(config)}`,
      );
    }
    const params = new Map(model.parameterNames().map((n) => [n, ck.params.get(n)!]));
    // Sequential's constructor re-checks every tensor against the layers before we adopt them.
    model.params = new Sequential(model.inputShape, model.layers, params).params;
    optimizer.loadState(ck.optState);
    history = ck.state.history;
    best = ck.state.best;
    collapse = ck.state.collapse;
    if (ck.best.size) bestParams = ck.best;
    sink.log(`resumed from ${checkpoint} after epoch ${ck.state.epochsDone}`);
    if (collapse) {
      sink.log(
        `the run had stopped on catastrophic overfitting at epoch ${collapse.epoch}; nothing left to train`,
      );
      model.params = new Sequential(model.inputShape, model.layers, bestParams!).params;
      return { history, best, collapse };
    }
  }
  const adv = opts.adversarial,
    cert = opts.certified;
  const radius = (adv ?? cert)?.eps;
  // The fixed batch of the robust check: the validation split's first rows, the same every epoch and on resume.
  const check =
    (adv || cert) && run.validation
      ? gatherBatch(
          run.validation,
          identityOrder(Math.min(run.robustCheckRows ?? 1000, run.validation.count)),
          0,
          run.robustCheckRows ?? 1000,
        )
      : null;

  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  const offSigint = onInterrupt(onSigint);
  try {
    for (let epoch = history.length; epoch < opts.epochs; epoch++) {
      const r = await trainEpoch(model, optimizer, run.train, opts, epoch, async (p) => {
        sink.update(
          `epoch ${p.epoch + 1}/${p.epochs} step ${p.step}/${p.steps} loss ${p.loss.toFixed(4)} acc ${(100 * p.accuracy).toFixed(2)}% ` +
            `${p.imagesPerSec.toFixed(0)} img/s ETA ${formatDuration(p.etaSec)}`,
          p.step / p.steps,
        );
        // Yield to the event loop so SIGINT can be seen between steps.
        await new Promise((resolve) => setImmediate(resolve));
        if (interrupted) throw new Interrupted();
      });
      const rec: EpochRecord = { ...r };
      if (r.eps !== undefined) rec.eps = r.eps;
      if (run.validation) rec.validationAccuracy = accuracy(model, run.validation).accuracy;
      if (check)
        rec.robustAccuracy = run.robustCheck
          ? run.robustCheck(model)
          : cert
            ? verifiedAccuracy(model, check.x, check.y, cert.eps, cert.kind)
            : pgdAccuracy(model, check.x, check.y, adv!.eps, 20, opts.seed);
      let collapsed = false;
      if (rec.robustAccuracy !== undefined) {
        if (best && rec.robustAccuracy < best.robustAccuracy - COLLAPSE_DROP) {
          collapse = {
            epoch: epoch + 1,
            robustAccuracy: rec.robustAccuracy,
            restoredEpoch: best.epoch,
            restoredRobustAccuracy: best.robustAccuracy,
          };
          collapsed = true;
        } else if (!best || rec.robustAccuracy >= best.robustAccuracy) {
          best = { epoch: epoch + 1, robustAccuracy: rec.robustAccuracy };
          // A copy of the map: optimizers replace tensors inside model.params (the tensors themselves are values).
          bestParams = new Map(model.params);
        }
      }
      history.push(rec);
      if (collapsed)
        model.params = new Sequential(model.inputShape, model.layers, bestParams!).params;
      await saveCheckpoint(
        checkpoint,
        model.params,
        optimizer.state(),
        {
          epochsDone: epoch + 1,
          config,
          history,
          ...(best ? { best } : {}),
          ...(collapse ? { collapse } : {}),
        },
        bestParams,
      );
      const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
      sink.log(
        `epoch ${epoch + 1}/${opts.epochs} loss ${r.loss.toFixed(4)} train${adv ? ' (adversarial)' : cert ? ' (clean)' : ''} ${pct(r.accuracy)}` +
          (rec.validationAccuracy !== undefined
            ? ` validation ${pct(rec.validationAccuracy)}`
            : '') +
          (rec.robustAccuracy !== undefined
            ? cert
              ? ` verified ${pct(rec.robustAccuracy)} (${cert.kind === 'ibp' ? 'IBP' : 'CROWN-IBP'} ε ${cert.eps} on ${check!.y.size})`
              : ` robust ${pct(rec.robustAccuracy)} (PGD-20 ε ${adv!.eps} on ${check!.y.size})`
            : '') +
          (r.eps !== undefined && r.eps < radius! ? ` training ε ${r.eps.toFixed(4)}` : '') +
          ` (${formatDuration(r.seconds)}) checkpoint ${checkpoint}`,
      );
      if (collapsed) {
        sink.log(
          `catastrophic overfitting at epoch ${collapse!.epoch}: robust validation accuracy fell to ${pct(collapse!.robustAccuracy)} from ${pct(collapse!.restoredRobustAccuracy)} ` +
            `at epoch ${collapse!.restoredEpoch}; restored epoch ${collapse!.restoredEpoch}'s weights and stopped`,
        );
        break;
      }
    }
  } catch (e) {
    if (e instanceof Interrupted) {
      sink.log(
        `interrupted: the last checkpoint (${history.length} epochs) is intact at ${checkpoint}; continue with --resume`,
      );
      setExitCode(130);
      return null;
    }
    throw e;
  } finally {
    offSigint();
  }
  return { history, ...(best ? { best } : {}), ...(collapse ? { collapse } : {}) };
}

/** Share of a batch the verifier certifies at ε by the training's method (float64, rounding covered). */
function verifiedAccuracy(
  model: Sequential,
  x: Tensor,
  y: Tensor,
  eps: number,
  method: 'ibp' | 'crown-ibp',
): number {
  const d = x.size / y.size;
  let c = 0;
  for (let i = 0; i < y.size; i++)
    if (
      certify(model, x.data.subarray(i * d, (i + 1) * d), y.data[i], eps, [0, 1], {}, { method })
        .certified
    )
      c++;
  return c / y.size;
}

/** Mean seconds per epoch of a history, to one decimal. */
export function secondsPerEpoch(history: CheckpointState['history']): number {
  return history.length
    ? Math.round((history.reduce((s, h) => s + h.seconds, 0) / history.length) * 10) / 10
    : 0;
}

/** What train and convert's fine-tuning read from their flags for a run (TrainOptions without the workers). */
export interface FlagTraining extends Omit<TrainingRun, 'optimizer' | 'opts' | 'robustCheckRows'> {
  optimizer: OptimizerConfig;
  robust: RobustTraining;
  opts: Pick<TrainOptions, 'epochs' | 'batchSize' | 'seed' | 'schedule' | 'augment' | 'teacher'>;
  threads: number;
}

/**
 * runTraining with `threads` workers (gradients summed in shard order, so a run is reproducible for a given
 * thread count) and the robust-training flags applied; null when interrupted.
 */
export function trainWithFlags(run: FlagTraining): Promise<TrainingOutcome | null> {
  const { optimizer, robust, opts, threads, ...rest } = run;
  return withWorkers(threads, (workers) =>
    runTraining({
      ...rest,
      optimizer: optimizerFromConfig(optimizer),
      robustCheckRows: robust.robustCheckRows,
      opts: {
        ...opts,
        ...(robust.adversarial
          ? { adversarial: robust.adversarial, epsRampEpochs: robust.epsRampEpochs }
          : {}),
        ...(robust.certified
          ? { certified: robust.certified, epsRampEpochs: robust.epsRampEpochs }
          : {}),
        workers,
      },
    }),
  );
}

/** What model.json's provenance records of a finished run after its settings: best epoch, collapse, how, speed. */
export function outcomeRecord(
  outcome: TrainingOutcome,
  optimizer: OptimizerConfig,
  backend: string,
  threads: number,
): Record<string, unknown> {
  return {
    ...(outcome.best ? { bestEpoch: outcome.best } : {}),
    ...(outcome.collapse ? { collapse: outcome.collapse } : {}),
    optimizer,
    backend,
    threads,
    secondsPerEpoch: secondsPerEpoch(outcome.history),
  };
}

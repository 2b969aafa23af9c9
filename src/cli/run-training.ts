// The epoch loop shared by `train` and `convert --finetune-epochs`: live progress, SIGINT or SIGTERM between steps
// (a checkpoint of that very step), an atomic checkpoint after every epoch, and --resume from either with the same
// settings only; and the two commands' common way in (the flags' settings, worker threads) and out (what
// model.json records of the run).
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
  type EpochPosition,
  type Optimizer,
  type OptimizerConfig,
  optimizerFromConfig,
  Sequential,
  trainEpoch,
  type TrainOptions,
} from '../nn/index.ts';
import type { Tensor } from '../tensor/index.ts';
import { certify } from '../verify/index.ts';
import { setExitCode } from '../runtime/index.ts';
import type { RobustTraining } from './adversarial-flags.ts';
import { UsageError } from './args.ts';
import { formatDuration, type ProgressSink, type ProgressTask } from './progress.ts';
import { listenForStop, nextTurn, Stopped, STOPPED_EXIT_CODE } from './stop.ts';
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
  /** The command line that continues this run after a signal (printed with the checkpoint's name). */
  resumeCommand?: string;
  /** The task's name in progress output and events. */
  task?: string;
}

/**
 * Catastrophic overfitting (Wong et al. 2020): PGD accuracy on the validation batch falls more than this far
 * below the best epoch's. Their runs show it as a cliff (e.g. 38% → 0% in one epoch), not a slow slide.
 */
export const COLLAPSE_DROP = 0.2;

export interface TrainingOutcome {
  /** The progress task, still open: the caller finishes it once the model is saved. */
  progress: ProgressTask;
  history: EpochRecord[];
  best?: CheckpointState['best'];
  collapse?: CheckpointState['collapse'];
}

/**
 * Runs the remaining epochs; returns the history, or null when stopped by a signal: then the checkpoint holds the
 * last finished step (its position in the epoch recorded) and the exit code is 130.
 */
export async function runTraining(run: TrainingRun): Promise<TrainingOutcome | null> {
  const { model, optimizer, opts, checkpoint, config, sink } = run;
  let history: EpochRecord[] = [];
  let best: CheckpointState['best'];
  let bestParams: Map<string, Tensor> | undefined;
  let collapse: CheckpointState['collapse'];
  let partial: EpochPosition | undefined;
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
    partial = ck.state.partialEpoch;
    sink.log(
      `resumed from ${checkpoint} after epoch ${ck.state.epochsDone}` +
        (partial ? ` and step ${partial.step} of epoch ${ck.state.epochsDone + 1}` : ''),
    );
  }
  // Listening before the start event: whoever reacts to it with a signal finds the listener there.
  const stop = listenForStop(sink, 'after the training step under way, with a checkpoint');
  const count = run.train.count;
  const progress = run.sink.task(run.task ?? 'train', opts.epochs * count, 'images', {
    done: history.length * count + (partial?.seen ?? 0),
    fields: { epochs: opts.epochs, checkpoint },
  });
  if (collapse) {
    stop.dispose();
    sink.log(
      `the run had stopped on catastrophic overfitting at epoch ${collapse.epoch}; nothing left to train`,
    );
    model.params = new Sequential(model.inputShape, model.layers, bestParams!).params;
    return { progress, history, best, collapse };
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

  // Where the epoch under way stands after its last finished step (null between epochs): what a signal saves.
  let at: { epoch: number; position: EpochPosition } | null = null;
  try {
    const first = history.length;
    for (let epoch = first; epoch < opts.epochs; epoch++) {
      // Only the first epoch of a resumed run continues from a position; history grows with every epoch.
      const from = epoch === first ? partial : undefined;
      const r = await trainEpoch(
        model,
        optimizer,
        run.train,
        opts,
        epoch,
        async (p) => {
          at = { epoch, position: p.position };
          progress.update(epoch * count + p.position.seen, {
            fields: {
              epoch: epoch + 1,
              step: p.step,
              steps: p.steps,
              loss: round(p.loss),
              accuracy: round(p.accuracy),
              ...(p.eps !== undefined ? { eps: round(p.eps) } : {}),
            },
            detail: `epoch ${epoch + 1}/${p.epochs} step ${p.step}/${p.steps} loss ${p.loss.toFixed(4)} acc ${(100 * p.accuracy).toFixed(2)}%`,
          });
          // Let the event loop turn so a signal is seen between steps.
          await nextTurn();
          stop.check();
        },
        from,
      );
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
      at = null;
      progress.update((epoch + 1) * count, {
        fields: {
          epoch: epoch + 1,
          loss: round(r.loss),
          accuracy: round(r.accuracy),
          ...(rec.validationAccuracy !== undefined
            ? { validationAccuracy: round(rec.validationAccuracy) }
            : {}),
          ...(rec.robustAccuracy !== undefined
            ? { robustAccuracy: round(rec.robustAccuracy) }
            : {}),
          epochSeconds: round(r.seconds),
        },
        force: true,
      });
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
      // A signal during the epoch's evaluation or checkpoint: stop here, the epoch's checkpoint is written.
      if (epoch + 1 < opts.epochs) stop.check();
    }
  } catch (e) {
    if (!(e instanceof Stopped)) throw e;
    // NOTE: TypeScript cannot see `at` assigned inside the step callback; the cast restores its type.
    const inEpoch = at as { epoch: number; position: EpochPosition } | null;
    if (inEpoch) {
      await saveCheckpoint(
        checkpoint,
        model.params,
        optimizer.state(),
        {
          epochsDone: history.length,
          config,
          history,
          partialEpoch: inEpoch.position,
          ...(best ? { best } : {}),
        },
        bestParams,
      );
    }
    progress.interrupt({ signal: e.signal, checkpoint });
    sink.log(
      `interrupted by ${e.signal} ` +
        (inEpoch
          ? `in epoch ${inEpoch.epoch + 1}/${opts.epochs} after step ${inEpoch.position.step}: ${checkpoint} holds that step, and the run resumes with the next one`
          : `after epoch ${history.length}/${opts.epochs}: ${checkpoint} holds it`) +
        `; continue with: ${run.resumeCommand ?? 'the same command and --resume'}`,
    );
    setExitCode(STOPPED_EXIT_CODE);
    return null;
  } finally {
    stop.dispose();
  }
  return { progress, history, ...(best ? { best } : {}), ...(collapse ? { collapse } : {}) };
}

/** Event fields to 6 decimals: enough to read, short enough for a log. */
const round = (v: number) => Math.round(v * 1e6) / 1e6;

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

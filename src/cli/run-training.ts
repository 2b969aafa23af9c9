// The epoch loop shared by `train` and `convert --finetune-epochs`: live progress, SIGINT between steps,
// an atomic checkpoint after every epoch, and --resume from it with the same settings only.
import { existsSync } from 'node:fs';
import type { Dataset } from '../data/index.ts';
import { loadCheckpoint, saveCheckpoint, type CheckpointState } from '../io/checkpoint.ts';
import { accuracy } from '../nn/evaluate.ts';
import type { Optimizer } from '../nn/optimizers.ts';
import { Sequential } from '../nn/sequential.ts';
import { trainEpoch, type TrainOptions } from '../nn/train.ts';
import { UsageError } from './args.ts';
import { formatDuration, type ProgressSink } from './progress.ts';

export interface TrainingRun {
  model: Sequential;
  optimizer: Optimizer;
  train: Dataset;
  test: Dataset;
  opts: TrainOptions;
  checkpoint: string;
  /** Everything that must match for a resumed run to equal an uninterrupted one. */
  config: Record<string, unknown>;
  resume: boolean;
  sink: ProgressSink;
}

/** Thrown from the step callback when SIGINT arrives: the run stops between steps, checkpoints intact. */
class Interrupted extends Error {}

/** Runs the remaining epochs; returns the history, or null when interrupted (exit code set to 130). */
export async function runTraining(run: TrainingRun): Promise<CheckpointState['history'] | null> {
  const { model, optimizer, opts, checkpoint, config, sink } = run;
  let history: CheckpointState['history'] = [];
  if (run.resume) {
    if (!existsSync(checkpoint)) throw new UsageError(`--resume: no checkpoint at ${checkpoint}`);
    const ck = await loadCheckpoint(checkpoint);
    if (JSON.stringify(ck.state.config) !== JSON.stringify(config)) {
      throw new UsageError(`--resume: ${checkpoint} was written with other settings:\n  checkpoint ${JSON.stringify(ck.state.config)}\n  now        ${JSON.stringify(config)}`);
    }
    const params = new Map(model.parameterNames().map((n) => [n, ck.params.get(n)!]));
    // Sequential's constructor re-checks every tensor against the layers before we adopt them.
    model.params = new Sequential(model.inputShape, model.layers, params).params;
    optimizer.loadState(ck.optState);
    history = ck.state.history;
    sink.log(`resumed from ${checkpoint} after epoch ${ck.state.epochsDone}`);
  }

  let interrupted = false;
  const onSigint = () => { interrupted = true; };
  process.on('SIGINT', onSigint);
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
      history.push(r);
      await saveCheckpoint(checkpoint, model.params, optimizer.state(), { epochsDone: epoch + 1, config, history });
      const test = accuracy(model, run.test);
      sink.log(`epoch ${epoch + 1}/${opts.epochs} loss ${r.loss.toFixed(4)} train ${(100 * r.accuracy).toFixed(2)}% test ${(100 * test.accuracy).toFixed(2)}% (${formatDuration(r.seconds)}) checkpoint ${checkpoint}`);
    }
  } catch (e) {
    if (e instanceof Interrupted) {
      sink.log(`interrupted: the last checkpoint (${history.length} epochs) is intact at ${checkpoint}; continue with --resume`);
      process.exitCode = 130;
      return null;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
  }
  return history;
}

/** Mean seconds per epoch of a history, to one decimal. */
export function secondsPerEpoch(history: CheckpointState['history']): number {
  return history.length ? Math.round((history.reduce((s, h) => s + h.seconds, 0) / history.length) * 10) / 10 : 0;
}

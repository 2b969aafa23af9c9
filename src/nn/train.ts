// The training loop: seeded shuffling per epoch, mini-batches, loss/accuracy, learning-rate schedule,
// progress callbacks. Runtime-free: the CLI renders progress and writes checkpoints from the callbacks.
import { ops } from '../autodiff/index.ts';
import { deriveStream, permutation } from '../hash/index.ts';
import { augmentBatch, augmentStream, type Augment } from './augment.ts';
import { gatherBatch, type ImageSet } from './batches.ts';
import { Tensor } from '../tensor/index.ts';
import {
  adversarialLossGradients,
  rampedEps,
  type AdversarialSpec,
  type AdversarialStep,
  type BatchKey,
  type StepGradients,
} from './adversarial.ts';
import { crossEntropyLoss, distillationLoss, type Distillation } from './losses.ts';
import type { Optimizer } from './optimizers.ts';
import { betaAt, certifiedLossGradients, kappaAt, type CertifiedSpec } from './certified.ts';
import type { Sequential } from './sequential.ts';

export type LrSchedule = 'constant' | 'cosine' | 'one-cycle';

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  seed: number;
  schedule: LrSchedule;
  /** Seeded crop/flip of every training batch; absent = none. */
  augment?: Augment;
  /**
   * Computes each step's loss and gradients elsewhere (src/parallel's WorkerPool splits the batch across
   * cores); absent = in this thread. Declared structurally so nn does not depend on the pool.
   */
  workers?: GradientWorkers;
  /** Knowledge distillation from a trained teacher on the same (augmented) batches; absent = plain cross-entropy. */
  teacher?: { model: Sequential } & Distillation;
  /** Adversarial training: every batch is replaced by its adversarial examples (or TRADES's pair); absent = clean. */
  adversarial?: AdversarialSpec;
  /** Certified training (IBP): the verified loss mixed with the clean one; absent = none. */
  certified?: CertifiedSpec;
  /** Epochs over which ε grows linearly from 0 to the spec's ε, per step (0 = full ε from the start). */
  epsRampEpochs?: number;
}

/** Data-parallel loss and gradients of the mean cross-entropy of a batch. */
export interface GradientWorkers {
  readonly size: number;
  lossAndGradients(model: Sequential, x: Tensor, y: Tensor): Promise<StepGradients>;
  /** The same for an adversarial training step: each worker makes its shard's adversarial examples. */
  adversarialLossAndGradients(
    ...step: AdversarialStep<Omit<BatchKey, 'rowOffset'>>
  ): Promise<StepGradients>;
}

export interface StepProgress {
  epoch: number; // 0-based
  epochs: number;
  step: number; // 1-based within the epoch
  steps: number;
  loss: number; // running mean over the epoch so far
  accuracy: number; // running training accuracy over the epoch so far
  imagesPerSec: number;
  etaSec: number; // remaining time for the whole run
  /** The adversarial radius of this step (after the ramp); absent for clean training. */
  eps?: number;
  /** Where the epoch stands after this step: what a checkpoint keeps to resume it at the next step. */
  position: EpochPosition;
}

/**
 * A point inside an epoch: the steps done and the running sums over them. trainEpoch continues from one with the
 * numbers an uninterrupted epoch gets (the batches, augmentation and learning rate depend on the step only).
 */
export interface EpochPosition {
  step: number;
  lossSum: number;
  correct: number;
  seen: number;
  /** Seconds already spent on the epoch (by an earlier process). */
  seconds: number;
}

export interface EpochResult {
  epoch: number;
  loss: number;
  accuracy: number;
  seconds: number;
  /** Adversarial training: the radius at the epoch's last step. */
  eps?: number;
}

/**
 * Learning rate at global step t of T: constant; cosine from lr0 to 0 (Loshchilov & Hutter 2017); or one-cycle,
 * linear from 0 up to lr0 at 2/5 of the run and back down to 0 (Smith & Topin 2019, as Wong et al. 2020 use it
 * for fast adversarial training: the warm-up keeps early large steps from collapsing the robust loss).
 */
export function learningRate(lr0: number, schedule: LrSchedule, t: number, total: number): number {
  if (schedule === 'cosine') return 0.5 * lr0 * (1 + Math.cos((Math.PI * t) / total));
  if (schedule === 'one-cycle') {
    const peak = 0.4 * total,
      u = t + 1;
    return u <= peak ? (lr0 * u) / peak : Math.max(0, (lr0 * (total - t)) / (total - peak));
  }
  return lr0;
}

/** Epoch e visits rows in permutation(deriveStream(seed, e)): resuming at epoch e repeats it exactly. */
export function epochOrder(seed: number, epoch: number, n: number): Uint32Array {
  return permutation(deriveStream(seed, 0x5eed0000 + epoch), n);
}

// Through lossGradientsAsync: on a webgpu backend the step's forward and backward run on the GPU chain; on CPU
// backends it is lossGradients itself (same numbers).
async function localLossAndGradients(
  model: Sequential,
  x: Tensor,
  y: Tensor,
  teacher?: TrainOptions['teacher'],
) {
  // The teacher's logits are computed outside the tape: constants of the student's loss.
  const t = teacher ? await teacher.model.forwardAsync(x) : null;
  const loss = t
    ? (logits: Tensor) => distillationLoss(logits, y, t, teacher!)
    : (logits: Tensor) => crossEntropyLoss(logits, y);
  const r = await model.lossGradientsAsync(x, loss, { params: true });
  const pred = ops.argmax(r.logits, 1);
  let correct = 0;
  for (let i = 0; i < y.size; i++) if (pred.data[i] === y.data[i]) correct++;
  return { loss: r.loss, correct, grads: r.grads! };
}

/**
 * Trains one epoch in place; the model's parameters are updated by the optimizer. `onStep` is awaited
 * after every step, which lets a caller yield to its event loop (signals, progress) or stop by throwing.
 * `from` continues an epoch stopped at that position (the model and optimizer as they were there).
 */
export async function trainEpoch(
  model: Sequential,
  optimizer: Optimizer,
  data: ImageSet,
  opts: TrainOptions,
  epoch: number,
  onStep?: (p: StepProgress) => void | Promise<void>,
  from?: EpochPosition,
): Promise<EpochResult> {
  // The worker protocol carries labels only, not a teacher's soft targets.
  if (opts.teacher && opts.workers && opts.workers.size > 1)
    throw new Error('training: distillation runs in one thread (threads 1)');
  if (opts.teacher && opts.adversarial)
    throw new Error('training: distillation and adversarial training do not combine');
  if (opts.certified && (opts.adversarial || opts.teacher))
    throw new Error(
      'training: certified training combines with neither adversarial training nor distillation',
    );
  if (opts.certified && opts.workers && opts.workers.size > 1)
    throw new Error('training: certified training runs in one thread (threads 1)');
  const order = epochOrder(opts.seed, epoch, data.count);
  const steps = Math.ceil(data.count / opts.batchSize);
  const t0 = performance.now();
  let lossSum = from?.lossSum ?? 0,
    correct = from?.correct ?? 0,
    seen = from?.seen ?? 0;
  const seen0 = seen,
    seconds0 = from?.seconds ?? 0;
  const radius = (opts.adversarial ?? opts.certified)?.eps;
  const rampSteps = (opts.epsRampEpochs ?? 0) * steps;
  // The radius at global step t: ramped from 0 over the first epsRampEpochs (adversarial or certified training).
  const epsAt = (t: number) => (radius === undefined ? undefined : rampedEps(radius, t, rampSteps));
  // An epoch resumed after its last step still reports the radius of that step.
  let lastEps = from && from.step > 0 ? epsAt(epoch * steps + from.step - 1) : undefined;
  for (let step = from?.step ?? 0; step < steps; step++) {
    const batch = gatherBatch(data, order, step * opts.batchSize, opts.batchSize);
    const { y } = batch;
    const x = opts.augment
      ? new Tensor(
          batch.x.shape,
          augmentBatch(
            batch.x.data as Float32Array,
            y.size,
            data.shape,
            opts.augment,
            augmentStream(opts.seed, epoch, step),
          ),
        )
      : batch.x;
    const adv = opts.adversarial,
      cert = opts.certified;
    const t = epoch * steps + step;
    const eps = epsAt(t);
    const key = { seed: opts.seed, epoch, step };
    lastEps = eps;
    const {
      loss,
      correct: right,
      grads,
    } = cert
      ? certifiedLossGradients(
          model,
          x,
          y,
          eps!,
          kappaAt(cert, t, rampSteps),
          cert.kind === 'ibp' ? (cert.margins ?? 'logits') : 'last-layer',
          cert.kind === 'crown-ibp' ? betaAt(t, rampSteps) : undefined,
        )
      : adv
        ? opts.workers
          ? await opts.workers.adversarialLossAndGradients(model, x, y, adv, eps!, key)
          : adversarialLossGradients(model, x, y, adv, eps!, { ...key, rowOffset: 0 })
        : opts.workers && !opts.teacher
          ? await opts.workers.lossAndGradients(model, x, y)
          : await localLossAndGradients(model, x, y, opts.teacher);
    correct += right;
    lossSum += loss * y.size;
    seen += y.size;
    const lr = learningRate(
      optimizer.config.lr,
      opts.schedule,
      epoch * steps + step,
      opts.epochs * steps,
    );
    optimizer.step(model.params, grads, lr);
    if (onStep) {
      const elapsed = (performance.now() - t0) / 1000;
      const rate = (seen - seen0) / Math.max(elapsed, 1e-9);
      const remaining = (opts.epochs - epoch) * data.count - seen;
      await onStep({
        epoch,
        epochs: opts.epochs,
        step: step + 1,
        steps,
        loss: lossSum / seen,
        accuracy: correct / seen,
        imagesPerSec: rate,
        etaSec: remaining / rate,
        ...(eps !== undefined ? { eps } : {}),
        position: { step: step + 1, lossSum, correct, seen, seconds: seconds0 + elapsed },
      });
    }
  }
  return {
    epoch,
    loss: lossSum / seen,
    accuracy: correct / seen,
    seconds: seconds0 + (performance.now() - t0) / 1000,
    ...(lastEps !== undefined ? { eps: lastEps } : {}),
  };
}

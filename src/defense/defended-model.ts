// A classifier with its DefenseSpec applied: static stages are already in its weights; a `random` stage is
// drawn per call from a request seed (given, or the next value of the model's own counter). Implements the
// white-box surface attacks use (forward, lossGradients), so attacks see exactly what a client would.
import { ops } from '../autodiff/index.ts';
import { deriveStream } from '../hash/index.ts';
import type { Sequential, Want } from '../nn/index.ts';
import { Tensor } from '../tensor/index.ts';
import type { DefenseSpec, GiStage } from './defense-spec.ts';
import { randomDraw } from './gradient-inhibition.ts';

type RandomStage = Extract<GiStage, { kind: 'random' }>;
type LossOfLogits = (logits: Tensor) => Tensor;

export class DefendedModel {
  readonly inputShape: readonly number[];
  private readonly random: RandomStage | null;
  private calls = 0;
  /** The stream the counter's seeds are drawn from: the secret, until restartSeeds names another. */
  private stream: number;

  /** `secret` seeds the per-call request seeds when none is given (a server keeps it private). */
  constructor(
    readonly network: Sequential,
    readonly spec: DefenseSpec | null,
    secret = 0,
  ) {
    this.inputShape = network.inputShape;
    this.stream = secret;
    const randoms = (spec?.stages ?? []).filter((s): s is RandomStage => s.kind === 'random');
    if (randoms.length > 1) throw new Error('defense: at most one random stage');
    this.random = randoms[0] ?? null;
  }

  /** Whether answers vary from query to query (attacks then need EOT). */
  get randomized(): boolean {
    return this.random !== null;
  }

  /** How many request seeds the counter has given out (an interrupted audit records it after each attack). */
  get seedsDrawn(): number {
    return this.calls;
  }

  /** Continues the counter at `calls`: a resumed audit then draws the seeds an uninterrupted one would. */
  resumeSeeds(calls: number): void {
    if (!Number.isSafeInteger(calls) || calls < 0)
      throw new Error(`defense: cannot resume the seed counter at ${calls}`);
    this.calls = calls;
  }

  /**
   * Draws the following seeds from `stream`, counter at 0: a distributed audit restarts the draws at every job
   * from a stream named by the job, so its numbers never depend on which jobs ran before it.
   */
  restartSeeds(stream: number): void {
    this.stream = stream >>> 0;
    this.calls = 0;
  }

  /** The request seed for the next call without one: a counter mixed with the current stream (the secret). */
  nextSeed(): number {
    return deriveStream(this.stream, this.calls++);
  }

  /** The parameters and per-row logit scales of one request. */
  private draw(
    rows: number,
    seed: number | undefined,
  ): { params: ReadonlyMap<string, Tensor>; scales: Tensor | null } {
    if (!this.random) return { params: this.network.params, scales: null };
    return randomDraw(
      this.network.layers,
      this.network.params,
      this.random,
      seed ?? this.nextSeed(),
      rows,
    );
  }

  /**
   * One request's draw as the network sees it: the parameters to run with, the defended logits of its logits
   * (times the per-row scales, where the random stage draws them), and the same for a loss-gradient result.
   */
  private request(rows: number, seed: number | undefined) {
    const { params, scales } = this.draw(rows, seed);
    const scaled = (z: Tensor) => (scales ? ops.mul(z, scales) : z);
    const scaledResult = <R extends { logits: Tensor }>(r: R): R =>
      scales ? { ...r, logits: ops.mul(r.logits, scales) } : r;
    return { params, scaled, scaledResult };
  }

  /** Logits of one request (fresh randomness unless `seed` is given). */
  forward(x: Tensor, seed?: number): Tensor {
    const { params, scaled } = this.request(x.shape[0], seed);
    return scaled(this.network.forward(x, params));
  }

  /**
   * forward() through the network's async path (the whole network on a webgpu backend's chain; forward() itself
   * on CPU backends). The random stage is drawn before this returns, in call order, exactly as forward() does.
   */
  forwardAsync(x: Tensor, seed?: number): Promise<Tensor> {
    const { params, scaled } = this.request(x.shape[0], seed);
    return this.network.forwardAsync(x, params).then(scaled);
  }

  /** lossGradients() through the network's async path; same draw and scaling as lossGradients(). */
  lossGradientsAsync(x: Tensor, loss: LossOfLogits, want: Want, seed?: number) {
    const { params, scaled, scaledResult } = this.request(x.shape[0], seed);
    return this.network
      .lossGradientsAsync(x, (z) => loss(scaled(z)), want, params)
      .then(scaledResult);
  }

  /** Loss of the defended logits and its gradients (fresh randomness unless `seed` is given). */
  lossGradients(x: Tensor, loss: LossOfLogits, want: Want, seed?: number) {
    const { params, scaled, scaledResult } = this.request(x.shape[0], seed);
    return scaledResult(this.network.lossGradients(x, (z) => loss(scaled(z)), want, params));
  }
}

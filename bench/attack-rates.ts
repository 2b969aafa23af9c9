// Attack throughput on whatever backend is current: the library's own PGD through a WhiteBox
// target and Square through a ScoreOracle, so each backend is measured on the path a user's attack takes
// (on webgpu: the async GPU chain for every gradient and query).
import { PGD, Square, ScoreOracle, WhiteBox } from '../src/attacks/index.ts';
import type { Sequential } from '../src/nn/index.ts';
import type { Tensor } from '../src/tensor/index.ts';

/**
 * L∞ PGD (ε 0.3, 0.01 per step, cross-entropy, no early stop) on the batch: image-steps per second. PGD skips
 * rows the model already misclassifies, so only rows that took every step count (use correctly classified
 * data: real test images, not noise).
 */
export async function pgdAttackRate(
  net: Sequential,
  x: Tensor,
  y: Tensor,
  steps: number,
): Promise<number> {
  const t0 = performance.now();
  const r = await new PGD({
    eps: 0.3,
    alpha: 0.01,
    steps,
    loss: 'ce',
    seed: 1,
    earlyStop: false,
  }).run(new WhiteBox(net), x, y);
  const seconds = (performance.now() - t0) / 1000;
  const attacked = r.queries.filter((q) => q >= steps).length;
  return (attacked * steps) / seconds;
}

/** Square (ε 0.1 so it keeps querying) with up to `queries` per image against a score oracle: queries per second. */
export async function squareRate(
  net: Sequential,
  x: Tensor,
  y: Tensor,
  queries: number,
): Promise<number> {
  const oracle = new ScoreOracle(net);
  const t0 = performance.now();
  await new Square({ eps: 0.1, maxQueries: queries, seed: 1 }).run(oracle, x, y);
  return oracle.queries / ((performance.now() - t0) / 1000);
}

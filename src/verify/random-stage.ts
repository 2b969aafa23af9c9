// What a certificate of a model with a random GI stage covers: every positive logit scale, and every noise draw
// of the last layer's weights whose standard normals stay within ±5 (the chance of a draw outside is stated).
import type { Sequential } from '../nn/index.ts';
import type { Randomness } from './margins.ts';

/** Noise draws beyond ±K standard deviations are not covered (their probability is stated). */
export const NOISE_SIGMAS = 5;
/** P(|N(0, 1)| > 5): the chance that one weight's draw leaves the covered range. */
const BEYOND_5_SIGMA = 5.733e-7;

/**
 * The Randomness a certificate must hold for under a random stage with relative weight noise `noise`: every
 * logit scale (positive, so every margin keeps its sign) and each last-layer weight scaled by
 * [1 − K·noise, 1 + K·noise] (plus its float32 rounding, 3u), with a sentence saying so.
 */
export function randomStageCoverage(
  model: Sequential,
  noise: number,
): { randomness: Randomness; statement: string } {
  const u = 2 ** -24,
    k = NOISE_SIGMAS * noise;
  const last = [...model.layers].reverse().find((l) => 'weight' in l) as { weight: string };
  const weights = model.params.get(last.weight)!.size;
  const beyond = noise > 0 ? Math.min(1, weights * BEYOND_5_SIGMA) : 0;
  return {
    randomness: { logitScale: true, lastLayerRelative: noise > 0 ? k + 3 * u * (1 + k) : 0 },
    statement:
      noise > 0
        ? `every logit scale of the random stage, and every last-layer noise draw whose ${weights} standard normals stay within ±${NOISE_SIGMAS} (a draw outside has probability at most ${beyond.toPrecision(3)}, by the union bound)`
        : 'every logit scale of the random stage (no weight noise)',
  };
}

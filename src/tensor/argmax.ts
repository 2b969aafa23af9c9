// The prediction rule, once: the index of a row's largest score, ties to the lowest index. Every caller that
// turns scores into a class (models, attacks, the server, the CLI) uses these.
import type { Tensor } from './tensor.ts';

/** Index of the largest of `data[offset .. offset + k)`, ties to the lowest index. */
export function argmaxRow(data: ArrayLike<number>, offset: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (data[offset + j] > data[offset + best]) best = j;
  return best;
}

/** argmaxRow of every row of an [n, k] tensor. */
export function argmaxRows(scores: Tensor): number[] {
  const [n, k] = scores.shape;
  return Array.from({ length: n }, (_, i) => argmaxRow(scores.data, i * k, k));
}

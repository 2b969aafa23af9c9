// The random start of PGD and APGD: a uniform point of the L∞ ball, or for L2 a Gaussian direction placed
// inside the ball (PGD: radius ε·u^(1/d), uniform in volume) or on its sphere (APGD, as AutoAttack does).
import { normal, uniform } from '../hash/index.ts';
import { Tensor } from '../tensor/index.ts';
import { project } from './evaluate.ts';

/**
 * Start points for `rows` (indices into the attacked batch) of x [rows.length, d], projected onto the ball
 * and [0, 1]. Counters depend on the example's index in the batch, not its position in the active set, so a
 * seed gives the same start whatever else is still being attacked.
 */
export function randomStart(
  x: Tensor,
  norm: 'linf' | 'l2',
  eps: number,
  stream: number,
  rows: readonly number[],
  d: number,
  l2: 'ball' | 'sphere',
): Tensor {
  const out = new Float32Array(x.size);
  const e = Number.isFinite(eps) ? eps : 1;
  rows.forEach((row, r) => {
    const base = row * (l2 === 'ball' ? d + 1 : d); // the ball draws one more number per example: its radius
    if (norm === 'linf') {
      for (let i = 0; i < d; i++)
        out[r * d + i] = x.data[r * d + i] + (2 * uniform(stream, base + i) - 1) * e;
      return;
    }
    let s = 0;
    const dir = new Float64Array(d);
    for (let i = 0; i < d; i++) s += (dir[i] = normal(stream, base + i)) ** 2;
    if (l2 === 'ball') {
      const radius = (e * uniform(stream, base + d) ** (1 / d)) / Math.sqrt(s || 1);
      for (let i = 0; i < d; i++) out[r * d + i] = x.data[r * d + i] + dir[i] * radius;
    } else {
      for (let i = 0; i < d; i++)
        out[r * d + i] = x.data[r * d + i] + (dir[i] * e) / Math.sqrt(s || 1);
    }
  });
  return project(x, new Tensor(x.shape, out), { norm, eps });
}

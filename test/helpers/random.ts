// Seeded random tensors for tests, drawn from the project's counter RNG so every run sees the same numbers.
import { uniform } from '../../src/hash/rng.ts';
import { Tensor, sizeOf, type DType } from '../../src/tensor/tensor.ts';

let streamCounter = 1;

/** Uniform values in [lo, hi); each call takes a fresh stream unless one is given. */
export function randomTensor(
  shape: number[],
  lo = -1,
  hi = 1,
  dtype: DType = 'f64',
  stream = streamCounter++,
): Tensor {
  const n = sizeOf(shape);
  const data = dtype === 'f64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = lo + (hi - lo) * uniform(stream, i);
  return new Tensor(shape, data);
}

/** Values with magnitude in [0.2, 1) and random sign: keeps finite differences away from kinks at 0. */
export function awayFromZero(shape: number[], dtype: DType = 'f64'): Tensor {
  const t = randomTensor(shape, 0.2, 1, dtype);
  const signs = randomTensor(shape, -1, 1, dtype);
  for (let i = 0; i < t.size; i++) if (signs.data[i] < 0) t.data[i] = -t.data[i];
  return t;
}

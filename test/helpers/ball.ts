// Shared fixtures of the bound tests: a small model with every layer type, the engines to run it on, images,
// and points of a clipped L∞ ball (uniform inside and at corners), where a sound bound must hold.
import { noGrad } from '../../src/autodiff/index.ts';
import { createWasmBackend, referenceBackend, withBackend } from '../../src/backend/index.ts';
import { randomInt, uniform } from '../../src/hash/index.ts';
import type { LayerSpec, Sequential } from '../../src/nn/index.ts';
import { Tensor } from '../../src/tensor/index.ts';
import { inputBox, type Box } from '../../src/verify/index.ts';
import { conv, dense } from './layer-specs.ts';

/** Input shape of the fixtures: one 12×12 channel. */
export const BALL_SHAPE = [1, 12, 12];

/** Conv with stride and padding, hashed conv, relu, max and average pooling, flatten, hashed dense, dense. */
export const EVERY_LAYER_TYPE: LayerSpec[] = [
  conv('c1', 1, 3, 3, 2, 1),
  { type: 'relu' },
  conv('c2', 3, 4, 3, 1, 1, { buckets: 20, seed: 11 }),
  { type: 'relu' },
  { type: 'maxpool2d', kernelSize: 2, stride: 2 },
  { type: 'avgpool2d', kernelSize: 2, stride: 1 },
  { type: 'flatten' },
  dense('d1', 16, 12, { buckets: 40, seed: 5 }),
  { type: 'relu' },
  dense('d2', 12, 5),
];

export const ENGINES = [
  ['reference', referenceBackend],
  ['wasm', createWasmBackend()!],
] as const;

/** A seeded 12×12 image in [0, 1]. */
export const ballImage = (s: number) => Float32Array.from({ length: 144 }, (_, j) => uniform(s, j));

/** n points of the clipped ball around x: half uniform inside, half at random corners. */
export function ballPoints(x: Float32Array, eps: number, n: number, s: number): Float32Array {
  const box = inputBox(x, BALL_SHAPE, eps);
  return Float32Array.from({ length: n * 144 }, (_, k) => {
    const i = k % 144,
      p = Math.floor(k / 144);
    const t = p % 2 ? uniform(s, k) : randomInt(s + 1, k, 2);
    return Math.fround(box.lo[i] + t * (box.hi[i] - box.lo[i]));
  }).map((v, k) => Math.min(box.hi[k % 144], Math.max(box.lo[k % 144], v)));
}

/**
 * Runs the model on n points of the ball in every engine and throws, naming the engine, ε, point and logit,
 * where a logit leaves [box.lo, box.hi] or the margin of class y over j falls below marginLower[j].
 */
export function expectBallInsideBounds(
  model: Sequential,
  x: Float32Array,
  y: number,
  eps: number,
  bounds: { box: Box; marginLower: Float64Array },
  seed: number,
  n = 1000,
): void {
  const pts = ballPoints(x, eps, n, seed);
  const { box, marginLower } = bounds;
  const classes = box.lo.length;
  for (const [engine, backend] of ENGINES) {
    const z = withBackend(
      backend,
      () => noGrad(() => model.forward(new Tensor([n, ...BALL_SHAPE], pts))).data,
    );
    for (let p = 0; p < n; p++)
      for (let j = 0; j < classes; j++) {
        const v = z[p * classes + j];
        if (!(v >= box.lo[j] && v <= box.hi[j]))
          throw new Error(
            `${engine} ε ${eps}: point ${p} logit ${j} = ${v} outside [${box.lo[j]}, ${box.hi[j]}]`,
          );
        if (j !== y && !(z[p * classes + y] - v >= marginLower[j]))
          throw new Error(
            `${engine} ε ${eps}: point ${p} margin over ${j} below its bound ${marginLower[j]}`,
          );
      }
  }
}

// The reference CPU backend: plain TypeScript loops, simple on purpose; the oracle every backend is tested
// against. One file per kernel id (conv2d.ts, max-pool2d.ts, hash-gather.ts, …).
import type { Backend } from '../../tensor/index.ts';
import { binary, clamp, compare, unary } from './elementwise.ts';
import { matmul } from './matmul.ts';
import { biasAdd } from './bias-add.ts';
import { conv2d, conv2dGradInput, conv2dGradWeight } from './conv2d.ts';
import { maxPool2d, maxPool2dGradInput } from './max-pool2d.ts';
import { avgPool2d, avgPool2dGradInput } from './avg-pool2d.ts';
import { argmax, broadcastTo, max, oneHot, sum } from './reduce.ts';
import { softmax } from './softmax.ts';
import { logSoftmax } from './log-softmax.ts';
import { crossEntropy } from './cross-entropy.ts';
import { hashGather } from './hash-gather.ts';
import { hashScatter } from './hash-scatter.ts';

// Geometry the WASM kernels share with the reference: the same sizes, and the same shapes refused.
export { conv2dGeometry, sweepSize, type Conv2dGeometry } from './conv2d.ts';
export type { PoolGeometry, PoolWindow } from './pool-window.ts';

export const referenceBackend: Backend = {
  name: 'cpu-reference',
  unary,
  binary,
  compare,
  clamp,
  sum,
  max,
  argmax,
  broadcastTo,
  oneHot,
  matmul,
  biasAdd,
  conv2d,
  conv2dGradInput,
  conv2dGradWeight,
  maxPool2d,
  maxPool2dGradInput,
  avgPool2d,
  avgPool2dGradInput,
  softmax,
  logSoftmax,
  crossEntropy,
  hashGather,
  hashScatter,
};

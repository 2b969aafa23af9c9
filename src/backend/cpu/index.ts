// The reference CPU backend: plain TypeScript loops, simple on purpose; the oracle every backend is tested against.
import type { Backend } from '../../tensor/index.ts';
import { binary, clamp, compare, unary } from './elementwise.ts';
import { biasAdd, matmul } from './matmul.ts';
import { conv2d, conv2dGradInput, conv2dGradWeight } from './conv2d.ts';
import { avgPool2d, avgPool2dGrad, maxPool2d, maxPool2dGrad } from './pool2d.ts';
import { argmax, broadcastTo, max, oneHot, sum } from './reduce.ts';
import { crossEntropy, logSoftmax, softmax } from './softmax.ts';
import { hashGather, hashScatter } from './hashed.ts';

export const referenceBackend: Backend = {
  name: 'cpu-reference',
  unary, binary, compare, clamp,
  sum, max, argmax, broadcastTo, oneHot,
  matmul, biasAdd,
  conv2d, conv2dGradInput, conv2dGradWeight,
  maxPool2d, maxPool2dGrad, avgPool2d, avgPool2dGrad,
  softmax, logSoftmax, crossEntropy,
  hashGather, hashScatter,
};

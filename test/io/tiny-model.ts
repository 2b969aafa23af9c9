// A tiny conv -> pool -> dense model (manifest draft + seeded weights) shared by the model-file and model-dir tests.
import type { ModelManifestDraft } from '../../src/nn/model-file.ts';
import { Tensor } from '../../src/tensor/tensor.ts';

/** A tiny conv → pool → dense classifier and seeded weights for it. */
export function tinyModel(): { draft: ModelManifestDraft; tensors: Map<string, Tensor> } {
  const draft: ModelManifestDraft = {
    format: 1,
    name: 'tiny',
    input: { shape: [1, 4, 4], range: [0, 1] },
    classes: ['zero', 'one', 'two'],
    layers: [
      {
        type: 'conv2d',
        inChannels: 1,
        outChannels: 2,
        kernelSize: 3,
        stride: 1,
        padding: 1,
        weight: 'conv1.weight',
        bias: 'conv1.bias',
      },
      { type: 'relu' },
      { type: 'maxpool2d', kernelSize: 2, stride: 2 },
      { type: 'flatten' },
      { type: 'dense', inDim: 8, outDim: 3, weight: 'fc.weight', bias: 'fc.bias' },
    ],
    defense: null,
    provenance: {
      dataset: { name: 'synthetic', sha256: '' },
      seed: 7,
      epochs: 2,
      command: 'hashguard train tiny',
      git: 'abc',
    },
    metrics: { testAccuracy: 0.9875, testCount: 80 },
  };
  let s = 7;
  const rand = (n: number) =>
    new Float32Array(n).map(() => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 2 ** 31 - 1;
    });
  // Map insertion order deliberately differs from layer order.
  const tensors = new Map<string, Tensor>([
    ['fc.bias', new Tensor([3], rand(3))],
    ['conv1.weight', new Tensor([2, 1, 3, 3], rand(18))],
    ['fc.weight', new Tensor([3, 8], rand(24))],
    ['conv1.bias', new Tensor([2], new Float32Array([-0, 0]))],
  ]);
  return { draft, tensors };
}

// A tiny certified-training problem: 64 8×8 images of two classes told apart by mean brightness (0.3 or 0.7,
// ±0.1 noise), robust at ε 0.05 once learned, and a two-layer MLP to learn it.
import { uniform } from '../../src/hash/index.ts';
import { initParams, Sequential, type LayerSpec } from '../../src/nn/index.ts';
import { Tensor } from '../../src/tensor/index.ts';
import { certify, type BoundMethod } from '../../src/verify/index.ts';
import { dense } from './layer-specs.ts';

export function twoBrightness() {
  const n = 64,
    shape = [1, 8, 8];
  const xs = new Float32Array(n * 64),
    ys = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    ys[i] = i % 2;
    for (let j = 0; j < 64; j++)
      xs[i * 64 + j] = (i % 2 ? 0.7 : 0.3) + 0.2 * (uniform(11, i * 64 + j) - 0.5);
  }
  const layers: LayerSpec[] = [
    { type: 'flatten' },
    dense('a', 64, 8),
    { type: 'relu' },
    dense('b', 8, 2),
  ];
  const model = new Sequential(shape, layers, initParams(layers, 3));
  /** How many of the 64 images the verifier certifies at ε 0.05. */
  const certified = (method: BoundMethod = 'ibp') => {
    let c = 0;
    for (let i = 0; i < n; i++)
      if (
        certify(model, xs.subarray(i * 64, (i + 1) * 64), ys[i], 0.05, [0, 1], {}, { method })
          .certified
      )
        c++;
    return c;
  };
  return { n, model, x: new Tensor([n, ...shape], xs), y: new Tensor([n], ys), certified };
}

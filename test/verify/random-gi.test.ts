// Certificates of a model behind random gradient inhibition hold for every draw they claim to cover (by every
// bound method): with the
// last layer's weights anywhere within the relative spread the draws reach and any positive logit scale, the
// noisy network's logits at points of the ball stay within the bounds, its margins above theirs, and the
// defended answer of a certified image is its label whatever the request seed.
import { describe, expect, test } from 'bun:test';
import { noGrad } from '../../src/autodiff/index.ts';
import { noisyLastLayer } from '../../src/defense/gradient-inhibition.ts';
import { DefendedModel, type DefenseSpec } from '../../src/defense/index.ts';
import { uniform } from '../../src/hash/index.ts';
import { initParams, Sequential, type LayerSpec } from '../../src/nn/index.ts';
import { argmaxRow, Tensor } from '../../src/tensor/index.ts';
import { certify } from '../../src/verify/index.ts';
import { conv, dense } from '../helpers/layer-specs.ts';

const shape = [1, 8, 8];
const layers: LayerSpec[] = [
  conv('c', 1, 4, 3, 1, 1),
  { type: 'relu' },
  { type: 'maxpool2d', kernelSize: 2, stride: 2 },
  { type: 'flatten' },
  dense('d', 64, 4, { buckets: 60, seed: 3 }),
];
const network = new Sequential(shape, layers, initParams(layers, 4));
const stage = { kind: 'random', alphaMin: 50, alphaMax: 150, noise: 0.01 } as const;
const spec = {
  stages: [stage],
  source: { name: 't', weightsSha256: '', hashed: true },
} as unknown as DefenseSpec;
const seeds = Array.from({ length: 40 }, (_, i) => 1000 + i);

describe('certificates under random gradient inhibition', () => {
  for (const method of ['ibp', 'crown-ibp', 'crown'] as const)
    test(`${method}: every covered draw: noisy logits inside the bounds, margins above theirs, defended answers = label`, () => {
      // The spread these draws actually reach (the CLI covers ±5σ; here the premise is measured, not assumed).
      const base = network.params.get('d.w')!.data;
      let spread = 0;
      const noisy = seeds.map((s) => {
        const p = noisyLastLayer(layers, network.params, stage, s);
        p.get('d.w')!.data.forEach((v, i) => {
          if (base[i] !== 0) spread = Math.max(spread, Math.abs(v / base[i] - 1));
        });
        return p;
      });
      expect(spread).toBeGreaterThan(0.01); // the draws do move the weights
      const randomness = { lastLayerRelative: spread * (1 + 1e-6), logitScale: true };
      const defended = new DefendedModel(network, spec);
      let certifiedImages = 0;
      for (let img = 0; img < 30; img++) {
        const x = Float32Array.from({ length: 64 }, (_, j) => uniform(50 + img, j));
        const z0 = noGrad(() => network.forward(new Tensor([1, ...shape], x))).data;
        const y = argmaxRow(z0, 0, 4);
        const eps = 1e-4;
        const c = certify(network, x, y, eps, [0, 1], randomness, { method });
        if (c.certified) certifiedImages++;
        const points = Float32Array.from({ length: 20 * 64 }, (_, k) =>
          Math.min(1, Math.max(0, x[k % 64] + (2 * uniform(900 + img, k) - 1) * eps)),
        );
        const batch = new Tensor([20, ...shape], points);
        noisy.forEach((params, d) => {
          const z = noGrad(() => network.forward(batch, params)).data;
          for (let p = 0; p < 20; p++)
            for (let j = 0; j < 4; j++) {
              const v = z[p * 4 + j];
              expect(v).toBeGreaterThanOrEqual(c.logits.lo[j]);
              expect(v).toBeLessThanOrEqual(c.logits.hi[j]);
              if (j !== y) expect(z[p * 4 + y] - v).toBeGreaterThanOrEqual(c.marginLower[j]);
            }
          if (c.certified) {
            const answers = noGrad(() => defended.forward(batch, seeds[d])).data;
            for (let p = 0; p < 20; p++) expect(argmaxRow(answers, p * 4, 4)).toBe(y);
          }
        });
      }
      expect(certifiedImages).toBeGreaterThan(5);
    });

  test('without the noise allowance the same images certify at least as often (the allowance only widens)', () => {
    for (let img = 0; img < 10; img++) {
      const x = Float32Array.from({ length: 64 }, (_, j) => uniform(70 + img, j));
      const y = argmaxRow(noGrad(() => network.forward(new Tensor([1, ...shape], x))).data, 0, 4);
      const plain = certify(network, x, y, 0.002);
      const noisy = certify(network, x, y, 0.002, [0, 1], {
        lastLayerRelative: 0.25,
        logitScale: true,
      });
      for (let j = 0; j < 4; j++)
        if (j !== y) expect(noisy.marginLower[j]).toBeLessThanOrEqual(plain.marginLower[j]);
      if (noisy.certified) expect(plain.certified).toBe(true);
    }
  });
});

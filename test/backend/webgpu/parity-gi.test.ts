// The randomized gradient-inhibition kernels against src/defense/gradient-inhibition.ts on a real adapter; same
// skip rule as parity.test.ts. Logit scales (and the scaled logits) bit-exact, noisy weights within tolerance
// (they use normal draws, whose WGSL log/cos precision is implementation-defined: docs/design.md §3).
import { afterAll, describe, expect, test } from 'bun:test';
import { referenceBackend } from '../../../src/backend/index.ts';
import { noisyLastLayer, randomLogitScales } from '../../../src/defense/gradient-inhibition.ts';
import type { LayerSpec } from '../../../src/nn/layer-spec.ts';
import { Tensor } from '../../../src/tensor/tensor.ts';
import { randomTensor } from '../../helpers/random.ts';
import {
  adapterAvailableTest,
  expectBitExact,
  expectClose,
  f32,
  kernelRunner,
  parityGpu,
  SEEDS,
} from '../../helpers/webgpu-parity.ts';

const device = await parityGpu('webgpu parity (gradient inhibition)');
const gpu = device.gpu;
afterAll(() => gpu?.device.destroy());
const run = kernelRunner(gpu);

const fr = Math.fround;
const random = (alphaMin: number, alphaMax: number, noise = 0.05) => ({
  kind: 'random' as const,
  alphaMin,
  alphaMax,
  noise,
});

describe('webgpu parity: randomized gradient inhibition', () => {
  adapterAvailableTest(device);

  describe.skipIf(!gpu)('kernels', () => {
    test('gi-random-scale: per-row scales and scaled logits bit-exact against randomLogitScales, several seeds', async () => {
      const [batch, outDim] = [1500, 3];
      const z = randomTensor([batch, outDim], -30, 30, 'f32');
      // Defaults; a degenerate range; bounds where f32 arithmetic would round twice; a wide spread.
      const stages = [
        random(50, 150),
        random(100, 100),
        random(0.5, 3.25),
        random(fr(0.1), fr(7.3)),
        random(fr(1e-3), 1e4),
        random(1, fr(1 + 2 ** -20)),
      ];
      for (const stage of stages)
        for (const seed of SEEDS) {
          const out = await run(
            'gi-random-scale',
            {
              batch,
              outDim,
              requestSeed: seed,
              alphaMin: stage.alphaMin,
              alphaMax: stage.alphaMax,
            },
            { z: f32(z) },
          );
          const scales = randomLogitScales(stage, seed, batch);
          const what = `α ∈ [${stage.alphaMin}, ${stage.alphaMax}] seed=${seed}`;
          expectBitExact(`scales ${what}`, out.scales, scales);
          // DefendedModel.forward: ops.mul(z, scales as [batch, 1]).
          expectBitExact(
            `logits ${what}`,
            out.y,
            referenceBackend.binary('mul', z, new Tensor([batch, 1], scales)).data,
          );
        }
    });

    test('gi-random-scale: exact rounding at the edges (subnormal bounds, huge spread, reversed bounds)', async () => {
      // randomLogitScales does not validate its stage, so it is the oracle here too.
      const batch = 2000;
      const z = new Float32Array(batch).fill(1);
      for (const stage of [
        random(2 ** -140, 2 ** -128),
        random(2 ** -149, 2 ** -126),
        random(fr(1e-30), fr(1e30)),
        random(fr(3e38), fr(3.4e38)),
        random(150, 50),
      ]) {
        const out = await run(
          'gi-random-scale',
          { batch, outDim: 1, requestSeed: 7, alphaMin: stage.alphaMin, alphaMax: stage.alphaMax },
          { z },
        );
        expectBitExact(
          `scales α ∈ [${stage.alphaMin}, ${stage.alphaMax}]`,
          out.scales,
          randomLogitScales(stage, 7, batch),
        );
      }
    });

    test('gi-random-noise: noisy last-layer weights match noisyLastLayer (dense and hashed real weights)', async () => {
      const dense: LayerSpec[] = [{ type: 'dense', inDim: 40, outDim: 10, weight: 'w', bias: 'b' }];
      const hashed: LayerSpec[] = [
        {
          type: 'hashed-dense',
          inDim: 400,
          outDim: 10,
          weight: 'w',
          bias: 'b',
          hash: { buckets: 500, seed: 3 },
        },
      ];
      for (const [layers, size] of [
        [dense, 400],
        [hashed, 500],
      ] as const)
        for (const noise of [0.05, 0.5])
          for (const seed of SEEDS) {
            const w = randomTensor([size], -1, 1, 'f32');
            const params = new Map([
              ['w', w],
              ['b', randomTensor([10], -1, 1, 'f32')],
            ]);
            const out = await run(
              'gi-random-noise',
              { size, requestSeed: seed, noise },
              { weight: f32(w) },
            );
            const want = noisyLastLayer(layers, params, random(50, 150, noise), seed).get('w')!;
            expectClose(`${layers[0].type} noise=${noise} seed=${seed}`, out.y, want.data);
            // The draw really moved the weights (the kernel is not the identity).
            expect(out.y.some((v, i) => v !== w.data[i])).toBe(true);
          }
    });

    test('gi-random-noise: noise 0 leaves the weights bit-identical, as the reference', async () => {
      const w = randomTensor([300], -1, 1, 'f32');
      const out = await run(
        'gi-random-noise',
        { size: 300, requestSeed: 11, noise: 0 },
        { weight: f32(w) },
      );
      expectBitExact('noise 0', out.y, w.data);
    });
  });
});

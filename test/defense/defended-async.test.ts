// DefendedModel's async twins on CPU backends: bit-identical to forward/lossGradients, drawing the random stage
// in the same order (a server or attack switched to the async methods sees exactly the same answers).
import { expect, test } from 'bun:test';
import * as ops from '../../src/autodiff/ops.ts';
import { noGrad } from '../../src/autodiff/grad.ts';
import { DefendedModel } from '../../src/defense/defended-model.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { committedModel, mnistSubset } from '../helpers/attack-data.ts';

test('random GI: forwardAsync / lossGradientsAsync equal the synchronous calls bit for bit, seeds drawn in the same order', async () => {
  const m = await committedModel('mnist-lenet5-h8');
  const { x, y } = await mnistSubset(6);
  const spec = {
    stages: [{ kind: 'random' as const, alphaMin: 2, alphaMax: 50, noise: 0.05 }],
    source: { name: 'mnist-lenet5-h8', weightsSha256: '', hashed: true },
  };
  const ce = (z: Tensor) => ops.sum(ops.crossEntropy(z, y));
  const sync = new DefendedModel(m, spec, 9),
    async_ = new DefendedModel(m, spec, 9);
  const bits = (t: Tensor | null) => t && Array.from(t.data);
  for (let call = 0; call < 2; call++) {
    expect(bits(await noGrad(() => async_.forwardAsync(x)))).toEqual(
      bits(noGrad(() => sync.forward(x))),
    );
    const a = await async_.lossGradientsAsync(x, ce, { input: true });
    const s = sync.lossGradients(x, ce, { input: true });
    expect(a.loss).toBe(s.loss);
    expect(bits(a.logits)).toEqual(bits(s.logits));
    expect(bits(a.dx)).toEqual(bits(s.dx));
  }
  expect(bits(await async_.forwardAsync(x, 7))).toEqual(bits(sync.forward(x, 7)));
  expect(async_.nextSeed()).toBe(sync.nextSeed());
}, 60_000);

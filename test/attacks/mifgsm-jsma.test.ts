// MI-FGSM on the undefended mnist-lenet5 (500 seeded images, L∞ ε 0.3): inside the budget and at least as
// strong as FGSM; JSMA (100 images, γ 0.1) with saliency from probabilities and from logits: success, L0
// within γ·d, values in [0, 1], only increases (θ = +1); reruns give identical results.
import { beforeAll, describe, expect, test } from 'bun:test';
import { takeRows } from '../../src/attacks/evaluate.ts';
import { FGSM } from '../../src/attacks/fgsm.ts';
import { JSMA } from '../../src/attacks/jsma.ts';
import { MIFGSM } from '../../src/attacks/mifgsm.ts';
import { LabelOracle, WhiteBox } from '../../src/attacks/target.ts';
import { median, successRate } from '../../src/attacks/types.ts';
import type { Sequential } from '../../src/nn/sequential.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { committedModel, mnistSubset } from '../helpers/attack-data.ts';

let model: Sequential;
let x: Tensor, y: Tensor;
beforeAll(async () => {
  model = await committedModel('mnist-lenet5');
  ({ x, y } = await mnistSubset(500));
});

const inUnitBox = (t: Tensor) => t.data.every((v) => v >= 0 && v <= 1);

describe('MI-FGSM on mnist-lenet5 (500 images)', () => {
  test('L∞ ε 0.3, 10 × 0.03, μ 1: inside the budget; success ≥ FGSM on the same images', async () => {
    const mi = await new MIFGSM().run(new WhiteBox(model), x, y);
    expect(inUnitBox(mi.xAdv)).toBe(true);
    expect(mi.norms.linf.every((n) => n <= 0.3 * (1 + 1e-6) + 1e-6)).toBe(true);
    expect(Math.max(...mi.queries)).toBeLessThanOrEqual(1 + 10 + 1);
    const fgsm = await new FGSM({ eps: 0.3 }).run(new WhiteBox(model), x, y);
    expect(successRate(mi)).toBeGreaterThanOrEqual(successRate(fgsm));
    console.log(
      `mnist-lenet5 500 images, L∞ ε 0.3: FGSM ${(100 * successRate(fgsm)).toFixed(1)}%, MI-FGSM ${(100 * successRate(mi)).toFixed(1)}%`,
    );
    await expect(new MIFGSM().run(new LabelOracle(model), x, y)).rejects.toThrow(
      'needs a white-box target',
    );
  }, 60_000);
});

describe('JSMA on mnist-lenet5 (100 images)', () => {
  test('probabilities and logits saliency: success, L0 ≤ γ·d, only increases, deterministic', async () => {
    const rows = Array.from({ length: 100 }, (_, i) => i);
    const xs = takeRows(x, rows),
      ys = takeRows(y, rows);
    const d = xs.size / xs.shape[0],
      gamma = 0.1;
    for (const saliency of ['probabilities', 'logits'] as const) {
      const r = await new JSMA({ gamma, saliency }).run(new WhiteBox(model), xs, ys);
      expect(inUnitBox(r.xAdv)).toBe(true);
      r.l0.forEach((l0, i) => {
        expect(l0).toBeLessThanOrEqual(Math.floor(gamma * d));
        let changed = 0,
          decreased = 0;
        for (let e = i * d; e < (i + 1) * d; e++) {
          if (r.xAdv.data[e] !== xs.data[e]) changed++;
          if (r.xAdv.data[e] < xs.data[e]) decreased++;
        }
        expect(changed).toBe(l0);
        expect(decreased).toBe(0); // θ = +1 only raises features
      });
      const broken = r.l0.filter((_, i) => r.cleanCorrect[i] && r.success[i]);
      expect(broken.length).toBeGreaterThan(0);
      console.log(
        `JSMA (${saliency}) 100 images, γ ${gamma}: success ${(100 * successRate(r)).toFixed(1)}%, median L0 of successes ${median(broken)} (${((100 * median(broken)) / d).toFixed(1)}% of ${d}), median L0 over all ${median(r.l0)}`,
      );
      if (saliency === 'probabilities') {
        expect(successRate(r)).toBeGreaterThanOrEqual(0.9);
        const again = await new JSMA({ gamma, saliency }).run(new WhiteBox(model), xs, ys);
        expect(Array.from(again.xAdv.data)).toEqual(Array.from(r.xAdv.data));
        expect(again.queries).toEqual(r.queries);
      }
    }
  }, 60_000);
});

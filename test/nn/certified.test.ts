// Certified training's objective: its interval logits are the verifier's bounds (float32 against float64, before
// the verifier's rounding widening), collapse to the logits at ε = 0, its gradients match finite differences,
// κ ramps from 1, and a few steps on a small problem raise the share of training images the verifier certifies.
import { describe, expect, test } from 'bun:test';
import { noGrad } from '../../src/autodiff/index.ts';
import { uniform } from '../../src/hash/index.ts';
import {
  adam,
  certifiedLossGradients,
  initParams,
  intervalLogits,
  intervalMargins,
  formatCertified,
  kappaAt,
  parseCertified,
  Sequential,
  type LayerSpec,
} from '../../src/nn/index.ts';
import { Tensor } from '../../src/tensor/index.ts';
import { certify, inputBox, intervalBounds } from '../../src/verify/index.ts';
import { conv, dense } from '../helpers/layer-specs.ts';
import { twoBrightness } from '../helpers/two-brightness.ts';

const shape = [1, 8, 8];
const layers: LayerSpec[] = [
  conv('c', 1, 3, 3, 2, 1),
  { type: 'relu' },
  { type: 'avgpool2d', kernelSize: 2, stride: 1 },
  { type: 'flatten' },
  dense('h', 27, 10, { buckets: 50, seed: 2 }),
  { type: 'relu' },
  dense('d', 10, 3),
];
const batch = (n: number, s: number) =>
  new Tensor(
    [n, ...shape],
    Float32Array.from({ length: n * 64 }, (_, k) => uniform(s, k)),
  );

describe('certified training objective (IBP)', () => {
  test('interval logits equal the verifier bounds up to float32 rounding, and the logits at ε = 0', () => {
    const m = new Sequential(shape, layers, initParams(layers, 1));
    const x = batch(4, 3);
    const z = noGrad(() => m.forward(x)).data;
    const at0 = noGrad(() => intervalLogits(m, x, 0));
    const wide = noGrad(() => intervalLogits(m, x, 0.05));
    for (let i = 0; i < 4; i++) {
      const exact = intervalBounds(
        m,
        inputBox(x.data.subarray(i * 64, (i + 1) * 64), shape, 0.05),
      ).at(-1)!;
      for (let j = 0; j < 3; j++) {
        const k = i * 3 + j;
        expect(at0.lo.data[k]).toBeCloseTo(z[k], 4);
        expect(at0.hi.data[k]).toBeCloseTo(z[k], 4);
        // The verifier's bounds are the same intervals widened by at most its rounding allowance.
        expect(wide.lo.data[k]).toBeGreaterThanOrEqual(exact.lo[j] - 1e-6);
        expect(wide.lo.data[k]).toBeLessThan(exact.lo[j] + 1e-3);
        expect(wide.hi.data[k]).toBeLessThanOrEqual(exact.hi[j] + 1e-6);
        expect(wide.hi.data[k]).toBeGreaterThan(exact.hi[j] - 1e-3);
      }
    }
  });

  test('margins through the last layer equal the verifier margins up to rounding, and beat the logits box', () => {
    const m = new Sequential(shape, layers, initParams(layers, 1));
    const x = batch(4, 3),
      labels = [0, 2, 1, 2];
    const mask = new Tensor(
      [4, 3],
      Float32Array.from({ length: 12 }, (_, k) => (labels[Math.floor(k / 3)] === k % 3 ? 1 : 0)),
    );
    const margins = noGrad(() => intervalMargins(m, x, mask, 0.05)).data;
    const box = noGrad(() => intervalLogits(m, x, 0.05));
    let tighter = 0;
    for (let i = 0; i < 4; i++) {
      const c = certify(m, x.data.subarray(i * 64, (i + 1) * 64), labels[i], 0.05);
      for (let j = 0; j < 3; j++) {
        const k = i * 3 + j;
        if (j === labels[i]) {
          expect(margins[k]).toBe(0);
          continue;
        }
        // The verifier's bound is the same one, lowered by its rounding allowance.
        expect(margins[k]).toBeGreaterThanOrEqual(c.marginLower[j] - 1e-5);
        expect(margins[k]).toBeLessThan(c.marginLower[j] + 1e-3);
        const fromBox = box.lo.data[i * 3 + labels[i]] - box.hi.data[k];
        expect(margins[k]).toBeGreaterThanOrEqual(fromBox - 1e-5);
        if (margins[k] > fromBox + 1e-4) tighter++;
      }
    }
    expect(tighter).toBeGreaterThan(0);
  });

  for (const margins of ['logits', 'last-layer'] as const)
    test(`gradients of the mixed loss match central finite differences (margins ${margins})`, () => {
      const m = new Sequential(shape, layers, initParams(layers, 5));
      const x = batch(3, 9),
        y = new Tensor([3], Float32Array.of(0, 2, 1));
      const { grads, loss } = certifiedLossGradients(m, x, y, 0.03, 0.4, margins);
      expect(Number.isFinite(loss)).toBe(true);
      const lossAt = () => certifiedLossGradients(m, x, y, 0.03, 0.4, margins).loss;
      for (const name of ['c.w', 'h.w', 'd.b']) {
        const t = m.params.get(name)!;
        for (const i of [0, Math.floor(t.size / 2)]) {
          const keep = t.data[i],
            h = 1e-2;
          (t.data as Float32Array)[i] = keep + h;
          const up = lossAt();
          (t.data as Float32Array)[i] = keep - h;
          const down = lossAt();
          (t.data as Float32Array)[i] = keep;
          const fd = (up - down) / (2 * h);
          expect(Math.abs(grads.get(name)!.data[i] - fd)).toBeLessThan(2e-2 * (1 + Math.abs(fd)));
        }
      }
    });

  test('κ ramps from 1 to its final value with ε; the spec parses and refuses nonsense', () => {
    // The first recipe stays the default (a recorded command rebuilds the same model); last-layer is asked for.
    const spec = parseCertified('ibp:eps=0.4');
    expect(spec).toEqual({ kind: 'ibp', eps: 0.4, kappa: 0.5 });
    expect(parseCertified('ibp:eps=0.4,margins=logits')).toEqual(spec);
    const tight = parseCertified('ibp:eps=0.4,margins=last-layer');
    expect(tight).toEqual({ kind: 'ibp', eps: 0.4, kappa: 0.5, margins: 'last-layer' });
    expect(formatCertified(tight)).toBe('ibp:eps=0.4,kappa=0.5,margins=last-layer');
    expect(formatCertified(spec)).toBe('ibp:eps=0.4,kappa=0.5');
    expect(() => parseCertified('ibp:eps=0.4,margins=box')).toThrow(
      'margins must be last-layer or logits',
    );
    expect(kappaAt(spec, 0, 10)).toBeCloseTo(0.95, 10);
    expect(kappaAt(spec, 9, 10)).toBe(0.5);
    expect(kappaAt(spec, 50, 10)).toBe(0.5);
    expect(kappaAt(spec, 0, 0)).toBe(0.5);
    expect(parseCertified('ibp:eps=8/255,kappa=0').eps).toBeCloseTo(8 / 255, 12);
    expect(parseCertified('crown-ibp:eps=0.3').kind).toBe('crown-ibp');
    expect(() => parseCertified('ibp:kappa=0.5')).toThrow('eps is required');
    expect(() => parseCertified('ibp:eps=0.3,beta=1')).toThrow("unknown setting 'beta'");
  });

  for (const margins of ['logits', 'last-layer'] as const)
    test(`a hundred certified steps raise the share of images the verifier certifies (margins ${margins})`, () => {
      const { n, model, x, y, certified } = twoBrightness();
      const before = certified();
      const opt = adam({ lr: 0.01 });
      for (let s = 0; s < 100; s++)
        opt.step(model.params, certifiedLossGradients(model, x, y, 0.05, 0.5, margins).grads, 0.01);
      expect(certified()).toBeGreaterThan(Math.max(before, n * 0.9));
    });
});

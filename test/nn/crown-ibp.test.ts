// CROWN-IBP training's bound: its margins (float32, differentiable) are the verifier's CROWN-IBP margins up to
// rounding, never looser than interval ones where it matters, its loss gradients match finite differences,
// β falls from 1 to 0 over the ramp, a few steps raise the share the verifier certifies, and a layer it cannot
// train through is refused by name.
import { describe, expect, test } from 'bun:test';
import { noGrad } from '../../src/autodiff/index.ts';
import { uniform } from '../../src/hash/index.ts';
import {
  adam,
  betaAt,
  certifiedLossGradients,
  crownIbpMargins,
  formatCertified,
  initParams,
  parseCertified,
  Sequential,
  type LayerSpec,
} from '../../src/nn/index.ts';
import { Tensor } from '../../src/tensor/index.ts';
import { certify } from '../../src/verify/index.ts';
import { conv, dense } from '../helpers/layer-specs.ts';
import { twoBrightness } from '../helpers/two-brightness.ts';

const shape = [1, 8, 8];
const layers: LayerSpec[] = [
  conv('c', 1, 3, 3, 2, 1),
  { type: 'relu' },
  conv('k', 3, 4, 3, 1, 1, { buckets: 40, seed: 3 }),
  { type: 'relu' },
  { type: 'flatten' },
  dense('h', 64, 10, { buckets: 50, seed: 2 }),
  { type: 'relu' },
  dense('d', 10, 3),
];
const batch = (n: number, s: number) =>
  new Tensor(
    [n, ...shape],
    Float32Array.from({ length: n * 64 }, (_, k) => uniform(s, k)),
  );
const onehot = (labels: number[], classes: number) =>
  new Tensor(
    [labels.length, classes],
    Float32Array.from({ length: labels.length * classes }, (_, k) =>
      labels[Math.floor(k / classes)] === k % classes ? 1 : 0,
    ),
  );

describe('CROWN-IBP training bound', () => {
  test("its margins are the verifier's CROWN-IBP margins up to rounding, for every ε", () => {
    const m = new Sequential(shape, layers, initParams(layers, 1));
    const x = batch(4, 3),
      labels = [0, 2, 1, 2];
    let beats = 0;
    for (const eps of [0.005, 0.02, 0.05]) {
      const { crown, ibp } = noGrad(() => crownIbpMargins(m, x, onehot(labels, 3), eps));
      for (let i = 0; i < 4; i++) {
        const xi = x.data.subarray(i * 64, (i + 1) * 64);
        const verified = certify(m, xi, labels[i], eps, [0, 1], {}, { method: 'crown-ibp' });
        const interval = certify(m, xi, labels[i], eps);
        for (let j = 0; j < 3; j++) {
          const k = i * 3 + j;
          if (j === labels[i]) {
            expect(Math.abs(crown.data[k])).toBeLessThan(1e-6);
            continue;
          }
          // The verifier keeps the better of the two bounds, then lowers it by its rounding allowance.
          const best = Math.max(crown.data[k], ibp.data[k]);
          const tol = 1e-3 * (1 + Math.abs(best));
          expect(best).toBeGreaterThanOrEqual(verified.marginLower[j] - tol);
          expect(best).toBeLessThan(verified.marginLower[j] + tol);
          expect(ibp.data[k]).toBeLessThan(interval.marginLower[j] + tol);
          expect(ibp.data[k]).toBeGreaterThan(interval.marginLower[j] - tol);
          if (crown.data[k] > ibp.data[k] + 1e-4) beats++;
        }
      }
    }
    expect(beats).toBeGreaterThan(0);
  });

  test('gradients of the CROWN-IBP loss match central finite differences', () => {
    const m = new Sequential(shape, layers, initParams(layers, 5));
    const x = batch(3, 9),
      y = new Tensor([3], Float32Array.of(0, 2, 1));
    const at = () => certifiedLossGradients(m, x, y, 0.02, 0.4, 'last-layer', 0.6);
    const { grads, loss } = at();
    expect(Number.isFinite(loss)).toBe(true);
    for (const name of ['c.w', 'k.w', 'h.w', 'd.b']) {
      const t = m.params.get(name)!;
      for (const i of [0, Math.floor(t.size / 2)]) {
        const keep = t.data[i],
          h = 1e-2;
        (t.data as Float32Array)[i] = keep + h;
        const up = at().loss;
        (t.data as Float32Array)[i] = keep - h;
        const down = at().loss;
        (t.data as Float32Array)[i] = keep;
        const fd = (up - down) / (2 * h);
        expect(Math.abs(grads.get(name)!.data[i] - fd)).toBeLessThan(2e-2 * (1 + Math.abs(fd)));
      }
    }
  });

  test('β falls from 1 to 0 over the ramp; the spec parses, formats, and refuses what it does not take', () => {
    expect(betaAt(0, 10)).toBeCloseTo(0.9, 10);
    expect(betaAt(9, 10)).toBe(0);
    expect(betaAt(50, 10)).toBe(0);
    const spec = parseCertified('crown-ibp:eps=0.3,kappa=0');
    expect(spec).toEqual({ kind: 'crown-ibp', eps: 0.3, kappa: 0 });
    expect(formatCertified(spec)).toBe('crown-ibp:eps=0.3,kappa=0');
    expect(() => parseCertified('crown-ibp:eps=0.3,margins=logits')).toThrow(
      "crown-ibp: unknown setting 'margins'",
    );
    expect(() => parseCertified('lp:eps=0.3')).toThrow("unknown method 'lp'");
  });

  test('a pooling layer is refused by name, never trained through a bound that ignores it', () => {
    const pooled: LayerSpec[] = [
      conv('c', 1, 2, 3, 1, 1),
      { type: 'relu' },
      { type: 'maxpool2d', kernelSize: 2, stride: 2 },
      { type: 'flatten' },
      dense('d', 32, 3),
    ];
    const m = new Sequential(shape, pooled, initParams(pooled, 1));
    expect(() => crownIbpMargins(m, batch(2, 1), onehot([0, 1], 3), 0.01)).toThrow(
      "crown-ibp: layers[2] has type 'maxpool2d', which it cannot train through",
    );
  });

  test('a hundred CROWN-IBP steps raise the share of images the verifier certifies', () => {
    const { n, model, x, y, certified } = twoBrightness();
    const before = certified('crown-ibp');
    const opt = adam({ lr: 0.01 });
    for (let s = 0; s < 100; s++)
      opt.step(
        model.params,
        certifiedLossGradients(model, x, y, 0.05, 0.5, 'last-layer', 0.5).grads,
        0.01,
      );
    expect(certified('crown-ibp')).toBeGreaterThan(Math.max(before, n * 0.9));
  });
});

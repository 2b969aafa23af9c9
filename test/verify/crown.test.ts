// Back-substitution bounds (CROWN-IBP and CROWN) are sound and tight where they must be: for models with every
// layer type (overlapping pooling windows, a last layer that is not dense), the logits every engine computes at
// 1,000 points of the ball lie inside the bounds and every margin is at least its lower bound; a linear network
// is bounded exactly; CROWN's boxes sit inside IBP's; float32 rounding is covered at a point ball.
import { describe, expect, test } from 'bun:test';
import { withBackend } from '../../src/backend/index.ts';
import { uniform } from '../../src/hash/index.ts';
import { noGrad } from '../../src/autodiff/index.ts';
import { initParams, Sequential, type LayerSpec } from '../../src/nn/index.ts';
import { Tensor } from '../../src/tensor/index.ts';
import {
  backSubstitute,
  certify,
  inputBox,
  intervalBounds,
  layerInputBoxes,
  outputBounds,
  rows,
} from '../../src/verify/index.ts';
import { conv, dense } from '../helpers/layer-specs.ts';
import {
  BALL_SHAPE,
  ballImage,
  ENGINES,
  EVERY_LAYER_TYPE,
  expectBallInsideBounds,
} from '../helpers/ball.ts';

const shape = BALL_SHAPE;
const models: Record<string, LayerSpec[]> = {
  'every layer type': EVERY_LAYER_TYPE,
  'overlapping max pooling': [
    conv('c1', 1, 4, 3, 1, 1),
    { type: 'relu' },
    { type: 'maxpool2d', kernelSize: 3, stride: 2 },
    { type: 'relu' },
    { type: 'flatten' },
    dense('d1', 100, 16),
    { type: 'relu' },
    dense('d2', 16, 5, { buckets: 30, seed: 2 }),
  ],
  'a conv last layer': [
    conv('c1', 1, 3, 3, 2, 1, { buckets: 12, seed: 4 }),
    { type: 'relu' },
    conv('c2', 3, 5, 6, 1, 0),
    { type: 'flatten' },
  ],
};
const engines = ENGINES;
const image = ballImage;

const worst = (m: Float64Array) => Math.min(...Array.from(m).filter((v) => !Number.isNaN(v)));

describe('back-substitution bounds', () => {
  for (const [name, layers] of Object.entries(models)) {
    const model = new Sequential(shape, layers, initParams(layers, 3));
    for (const method of ['crown-ibp', 'crown'] as const)
      test(`${name}, ${method}: every engine's logits at 1,000 points of the ball lie within the bounds, margins above theirs`, () => {
        for (const eps of [0.01, 0.1, 0.3])
          for (let s = 0; s < 2; s++) {
            const x = image(100 + s);
            const ref = noGrad(() => model.forward(new Tensor([1, ...shape], x))).data;
            const classes = ref.length;
            let y = 0;
            for (let j = 1; j < classes; j++) if (ref[j] > ref[y]) y = j;
            const cert = certify(model, x, y, eps, [0, 1], {}, { method });
            const ibp = certify(model, x, y, eps);
            const box = outputBounds(model, inputBox(x, shape, eps), method);
            expectBallInsideBounds(model, x, y, eps, { box, marginLower: cert.marginLower }, 7 + s);
            // Never looser than the interval bounds they start from.
            for (let j = 0; j < classes; j++) {
              if (j !== y) expect(cert.marginLower[j]).toBeGreaterThanOrEqual(ibp.marginLower[j]);
              expect(box.lo[j]).toBeGreaterThanOrEqual(ibp.logits.lo[j]);
              expect(box.hi[j]).toBeLessThanOrEqual(ibp.logits.hi[j]);
            }
          }
      }, 60_000); // 6 balls of 1,000 points in two engines: several seconds on a loaded machine
  }

  test('a linear network is bounded exactly: the corner chosen by the composed coefficients reaches the margin bound', () => {
    // Two dense layers without a relu: the margin is one linear function of x, whose minimum over the box is at
    // a corner. Back-substitution finds that minimum (IBP cannot: it bounds each hidden unit separately).
    const layers: LayerSpec[] = [{ type: 'flatten' }, dense('a', 144, 8), dense('b', 8, 5)];
    const model = new Sequential(shape, layers, initParams(layers, 8));
    const w1 = model.params.get('a.w')!.data,
      w2 = model.params.get('b.w')!.data;
    const x = image(500),
      eps = 0.05,
      y = 2;
    const box = inputBox(x, shape, eps);
    const cert = certify(model, x, y, eps, [0, 1], {}, { method: 'crown-ibp' });
    const ibp = certify(model, x, y, eps);
    for (let j = 0; j < 5; j++) {
      if (j === y) continue;
      const corner = Float32Array.from(x, (_, i) => {
        let c = 0;
        for (let h = 0; h < 8; h++) c += (w2[y * 8 + h] - w2[j * 8 + h]) * w1[h * 144 + i];
        return c >= 0 ? box.lo[i] : box.hi[i];
      });
      const z = noGrad(() => model.forward(new Tensor([1, ...shape], corner))).data;
      const margin = z[y] - z[j],
        bound = cert.marginLower[j];
      expect(margin).toBeGreaterThanOrEqual(bound);
      // Exact but for the float32 rounding allowance (a few 10⁻⁴ here); IBP is looser by whole units.
      expect(margin - bound).toBeLessThan(1e-3 * (1 + Math.abs(bound)));
      expect(ibp.marginLower[j]).toBeLessThan(bound - 0.1);
    }
  });

  test("CROWN's intermediate boxes lie inside IBP's and tighten some; its margins beat CROWN-IBP's somewhere", () => {
    const model = new Sequential(
      shape,
      models['every layer type'],
      initParams(models['every layer type'], 3),
    );
    let tighter = 0,
      better = 0;
    for (let s = 0; s < 6; s++) {
      const input = inputBox(image(600 + s), shape, 0.05);
      const ibp = [input, ...intervalBounds(model, input)];
      const crown = layerInputBoxes(model, input, 'crown');
      expect(crown.length).toBe(ibp.length);
      crown.forEach((b, i) => {
        for (let k = 0; k < b.lo.length; k++) {
          // Inside up to the 10⁻¹² float64 allowance the interval rule adds (relative to the box's centre).
          const allow = 1e-9 * (1 + Math.abs(ibp[i].lo[k]) + Math.abs(ibp[i].hi[k]));
          expect(b.lo[k]).toBeGreaterThanOrEqual(ibp[i].lo[k] - allow);
          expect(b.hi[k]).toBeLessThanOrEqual(ibp[i].hi[k] + allow);
          if (b.hi[k] - b.lo[k] < ibp[i].hi[k] - ibp[i].lo[k] - 1e-9) tighter++;
        }
      });
      const a = certify(model, image(600 + s), 0, 0.05, [0, 1], {}, { method: 'crown-ibp' });
      const b = certify(model, image(600 + s), 0, 0.05, [0, 1], {}, { method: 'crown' });
      if (worst(b.marginLower) > worst(a.marginLower) + 1e-9) better++;
    }
    expect(tighter).toBeGreaterThan(0);
    expect(better).toBeGreaterThan(0);
  });

  test('float32 rounding is covered: at a point ball the logits of a wide network lie inside, in every engine', () => {
    const wide: LayerSpec[] = [
      { type: 'flatten' },
      dense('a', 784, 32),
      { type: 'relu' },
      dense('b', 32, 10),
    ];
    const m = new Sequential([1, 28, 28], wide, initParams(wide, 9));
    const xs = Float32Array.from({ length: 100 * 784 }, (_, k) => uniform(19, k));
    const bounds = Array.from({ length: 100 }, (_, i) =>
      outputBounds(m, inputBox(xs.subarray(i * 784, (i + 1) * 784), [1, 28, 28], 0), 'crown'),
    );
    let offCentre = 0;
    for (const [, backend] of engines) {
      const z = withBackend(
        backend,
        () => noGrad(() => m.forward(new Tensor([100, 1, 28, 28], xs))).data,
      );
      for (let i = 0; i < 100; i++)
        for (let j = 0; j < 10; j++) {
          const { lo, hi } = bounds[i];
          expect(z[i * 10 + j]).toBeGreaterThanOrEqual(lo[j]);
          expect(z[i * 10 + j]).toBeLessThanOrEqual(hi[j]);
          if (z[i * 10 + j] !== (lo[j] + hi[j]) / 2) offCentre++;
        }
    }
    expect(offCentre).toBeGreaterThan(1000);
  });

  // Random points rarely reach a relaxation's worst case; these boxes are built so that the exact extremes sit
  // at vertices where the relaxation is tight: a chord placed too low or a max-pooling bound on the wrong side
  // fails here at once.
  function extremes(model: Sequential, box: { lo: number[]; hi: number[] }, shape: number[]) {
    const n = box.lo.length,
      steps = 4;
    let min = Infinity,
      max = -Infinity;
    const x = new Float32Array(n);
    for (let k = 0; k < (steps + 1) ** n; k++) {
      for (let i = 0, r = k; i < n; i++, r = Math.floor(r / (steps + 1)))
        x[i] = box.lo[i] + ((r % (steps + 1)) / steps) * (box.hi[i] - box.lo[i]);
      const z = noGrad(() => model.forward(new Tensor([1, ...shape], x))).data[0];
      min = Math.min(min, z);
      max = Math.max(max, z);
    }
    return { min, max };
  }
  function bounds(model: Sequential, box: { lo: number[]; hi: number[] }, shape: number[]) {
    const input = { shape, lo: Float64Array.from(box.lo), hi: Float64Array.from(box.hi) };
    const boxes = [input, ...intervalBounds(model, input)];
    const r = rows(2, 1);
    r.a[0] = 1;
    r.a[1] = -1;
    const [lo, negHi] = backSubstitute(model, boxes, model.layers.length, r);
    return { lo, hi: -negHi };
  }
  const params = (w: number[]) =>
    new Map([
      ['d.w', new Tensor([1, w.length], Float32Array.from(w))],
      ['d.b', new Tensor([1], Float32Array.of(0.25))],
    ]);

  test('relu relaxation: sound over the whole box, and tight where every coefficient is negative (the chord)', () => {
    const box = { lo: [-1, -0.5, -2, 0.5], hi: [1, 2, 0.5, 1] };
    for (const w of [
      [-1, -2, -0.5, -1],
      [1, -2, 0.5, -1],
      [2, 1, 0.5, 1],
    ]) {
      const model = new Sequential([4], [{ type: 'relu' }, dense('d', 4, 1)], params(w));
      const exact = extremes(model, box, [4]),
        b = bounds(model, box, [4]);
      expect(b.lo).toBeLessThanOrEqual(exact.min);
      expect(b.hi).toBeGreaterThanOrEqual(exact.max);
      if (w.every((v) => v < 0)) expect(exact.min - b.lo).toBeLessThan(1e-5);
    }
  });

  test('max pooling relaxation: sound when another member can exceed the largest lower bound, exact when none can', () => {
    const layers: LayerSpec[] = [
      { type: 'maxpool2d', kernelSize: 2, stride: 2 },
      { type: 'flatten' },
      dense('d', 1, 1),
    ];
    const boxes = [
      { lo: [0.4, 0.2, 0, 0], hi: [0.6, 1, 0.3, 0.1] }, // the largest lower bound is not the largest upper
      { lo: [0.7, 0.2, 0, 0], hi: [0.9, 0.6, 0.3, 0.1] }, // member 0 is the max everywhere: exact
    ];
    for (const w of [-1, 1])
      for (const [i, box] of boxes.entries()) {
        const model = new Sequential([1, 2, 2], layers, params([w]));
        const exact = extremes(model, box, [1, 2, 2]),
          b = bounds(model, box, [1, 2, 2]);
        expect(b.lo).toBeLessThanOrEqual(exact.min);
        expect(b.hi).toBeGreaterThanOrEqual(exact.max);
        if (i === 1) {
          expect(exact.min - b.lo).toBeLessThan(1e-5);
          expect(b.hi - exact.max).toBeLessThan(1e-5);
        }
      }
  });

  test('a layer without a bound rule is an error naming it, never a bound', () => {
    const fake = { layers: [{ type: 'softmax' }], params: new Map() } as never;
    const input = inputBox(new Float32Array(4), [4], 0.1);
    expect(() => backSubstitute(fake, [input, input], 1, rows(1, 4))).toThrow(
      "layers[0] has type 'softmax', which has no bound rule",
    );
  });
});

// Interval bounds are sound: for a model with every layer type (conv with stride and padding, hashed conv,
// relu, max and average pooling, flatten, hashed dense, dense), the logits every engine computes at 1,000 points
// of the ball (uniform and corners) lie inside the bounds, and every margin is at least its certified lower
// bound; a point ball gives tight bounds; certificates say yes for tiny balls and no for the whole range.
import { describe, expect, test } from 'bun:test';
import { withBackend } from '../../src/backend/index.ts';
import { noGrad } from '../../src/autodiff/index.ts';
import { uniform } from '../../src/hash/index.ts';
import { initParams, Sequential, type LayerSpec } from '../../src/nn/index.ts';
import { Tensor } from '../../src/tensor/index.ts';
import { certify, inputBox, intervalBounds, layerBox } from '../../src/verify/index.ts';
import { BALL_SHAPE, ballImage, ballPoints, ENGINES, EVERY_LAYER_TYPE } from '../helpers/ball.ts';

const shape = BALL_SHAPE;
const layers: LayerSpec[] = EVERY_LAYER_TYPE;
const model = new Sequential(shape, layers, initParams(layers, 3));
const engines = ENGINES;
const image = ballImage;
const points = ballPoints;

describe('interval bound propagation', () => {
  for (const eps of [0.01, 0.1, 0.3])
    test(`ε = ${eps}: every engine's logits at 1,000 points of the ball lie within the bounds, margins above theirs`, () => {
      for (let s = 0; s < 4; s++) {
        const x = image(100 + s);
        const ref = noGrad(() => model.forward(new Tensor([1, ...shape], x))).data;
        let y = 0;
        for (let j = 1; j < 5; j++) if (ref[j] > ref[y]) y = j;
        const cert = certify(model, x, y, eps);
        const pts = points(x, eps, 1000, 7 + s);
        for (const [name, engine] of engines) {
          const z = withBackend(
            engine,
            () => noGrad(() => model.forward(new Tensor([1000, ...shape], pts))).data,
          );
          for (let p = 0; p < 1000; p++)
            for (let j = 0; j < 5; j++) {
              const v = z[p * 5 + j];
              if (!(v >= cert.logits.lo[j] && v <= cert.logits.hi[j]))
                throw new Error(
                  `${name}: point ${p} logit ${j} = ${v} outside [${cert.logits.lo[j]}, ${cert.logits.hi[j]}]`,
                );
              if (j !== y && !(z[p * 5 + y] - v >= cert.marginLower[j]))
                throw new Error(
                  `${name}: point ${p} margin over ${j} below its bound ${cert.marginLower[j]}`,
                );
            }
        }
        // Bounds through the last layer are at least as tight as the logits' box.
        for (let j = 0; j < 5; j++)
          if (j !== y)
            expect(cert.marginLower[j]).toBeGreaterThanOrEqual(
              cert.logits.lo[y] - cert.logits.hi[j] - 1e-9,
            );
      }
    });

  test('float32 rounding is covered: at a point ball (exact bounds) the logits of a wide layer lie inside, in every engine', () => {
    // 784 float32 products summed: the engines' results differ from the exact value in the last bits, so bounds
    // without the outward widening would exclude most of them.
    const wide: LayerSpec[] = [
      { type: 'flatten' },
      { type: 'dense', inDim: 784, outDim: 10, weight: 'w', bias: 'b' },
    ];
    const m = new Sequential([1, 28, 28], wide, initParams(wide, 9));
    const xs = Float32Array.from({ length: 200 * 784 }, (_, k) => uniform(17, k));
    const boxes = Array.from({ length: 200 }, (_, i) =>
      intervalBounds(m, inputBox(xs.subarray(i * 784, (i + 1) * 784), [1, 28, 28], 0)).at(-1)!,
    );
    let outsideExact = 0;
    for (const [, engine] of engines) {
      const z = withBackend(
        engine,
        () => noGrad(() => m.forward(new Tensor([200, 1, 28, 28], xs))).data,
      );
      for (let i = 0; i < 200; i++)
        for (let j = 0; j < 10; j++) {
          const { lo, hi } = boxes[i];
          expect(z[i * 10 + j]).toBeGreaterThanOrEqual(lo[j]);
          expect(z[i * 10 + j]).toBeLessThanOrEqual(hi[j]);
          if (z[i * 10 + j] !== (lo[j] + hi[j]) / 2) outsideExact++;
        }
    }
    expect(outsideExact).toBeGreaterThan(1000); // rounding really happens: the widening is what holds
  });

  test('one linear layer is bounded exactly: the corner chosen by the signs of the weights reaches each bound', () => {
    // IBP is exact for a single linear map, so this catches a bound that is too tight (unsound) or too loose.
    for (const spec of [
      { type: 'dense', inDim: 144, outDim: 6, weight: 'w', bias: 'b' },
      {
        type: 'conv2d',
        inChannels: 1,
        outChannels: 2,
        kernelSize: 3,
        stride: 2,
        padding: 1,
        weight: 'w',
        bias: 'b',
      },
    ] as LayerSpec[]) {
      const flatten: LayerSpec = { type: 'flatten' };
      const one = spec.type === 'dense' ? [flatten, spec] : [spec, flatten];
      const m = new Sequential(shape, one, initParams(one, 21));
      const x = image(400),
        eps = 0.05;
      const box = inputBox(x, shape, eps);
      const out = intervalBounds(m, box).at(-1)!;
      const w = m.params.get('w')!.data;
      // Output unit o of the dense layer; for conv, output position 0 of channel 0 (its window is the top-left).
      const units = spec.type === 'dense' ? [0, 1, 2, 3, 4, 5] : [0];
      for (const o of units) {
        for (const side of ['hi', 'lo'] as const) {
          const corner = Float32Array.from(x, (_, i) => {
            let wi = 0;
            if (spec.type === 'dense') wi = w[o * 144 + i];
            else {
              const yy = Math.floor(i / 12),
                xx = i % 12; // window rows/cols −1..1 around (0, 0)
              if (yy <= 1 && xx <= 1) wi = w[(yy + 1) * 3 + (xx + 1)];
            }
            const up = side === 'hi' ? wi >= 0 : wi < 0;
            return up ? box.hi[i] : box.lo[i];
          });
          const z = noGrad(() => m.forward(new Tensor([1, ...shape], corner))).data[o];
          const bound = out[side][o];
          const slack = 1e-4 * (1 + Math.abs(bound));
          if (side === 'hi')
            (expect(z).toBeLessThanOrEqual(bound), expect(z).toBeGreaterThan(bound - slack));
          else (expect(z).toBeGreaterThanOrEqual(bound), expect(z).toBeLessThan(bound + slack));
        }
      }
    }
  });

  test('a point ball gives tight bounds around the forward pass; a bigger ball gives wider ones', () => {
    const x = image(200);
    const z = noGrad(() => model.forward(new Tensor([1, ...shape], x))).data;
    const point = intervalBounds(model, inputBox(x, shape, 0)).at(-1)!;
    const wide = intervalBounds(model, inputBox(x, shape, 0.05)).at(-1)!;
    for (let j = 0; j < 5; j++) {
      expect(point.lo[j]).toBeLessThanOrEqual(z[j]);
      expect(point.hi[j]).toBeGreaterThanOrEqual(z[j]);
      // Only the rounding widening is left: worst case per layer, compounding through the weights, yet far
      // below any margin a certificate rests on.
      expect(point.hi[j] - point.lo[j]).toBeLessThan(1e-3 * (1 + Math.abs(z[j])));
      expect(wide.hi[j] - wide.lo[j]).toBeGreaterThan(point.hi[j] - point.lo[j]);
    }
  });

  test('certificates: the prediction holds over a tiny ball, not over the whole input range', () => {
    let certified = 0;
    for (let s = 0; s < 20; s++) {
      const x = image(300 + s);
      const z = noGrad(() => model.forward(new Tensor([1, ...shape], x))).data;
      let y = 0;
      for (let j = 1; j < 5; j++) if (z[j] > z[y]) y = j;
      if (certify(model, x, y, 1e-6).certified) certified++;
      expect(certify(model, x, y, 1).certified).toBe(false);
      expect(certify(model, x, (y + 1) % 5, 1e-6).certified).toBe(false); // a wrong label never
    }
    expect(certified).toBeGreaterThanOrEqual(18);
  });

  test('the input box is the ball clipped to the input range', () => {
    const box = inputBox(Float32Array.of(0, 0.5, 1), [3], 0.2);
    expect([...box.lo]).toEqual([0, 0.5 - 0.2, 0.8]);
    expect([...box.hi]).toEqual([0.2, 0.5 + 0.2, 1]);
  });

  test('a layer without a bound rule is an error naming it, never a certificate', () => {
    const box = inputBox(new Float32Array(4), [4], 0.1);
    expect(() => layerBox({ type: 'softmax' } as never, box, model.params, 3)).toThrow(
      "layers[3] has type 'softmax', which has no bound rule",
    );
    expect(() => certify(model, image(1), 7, 0.1)).toThrow('label 7 is not a class');
  });
});

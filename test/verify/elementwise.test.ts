// Bounds through leaky relu, sigmoid, tanh, clip and affine: random networks with all of them keep both engines'
// logits at 1,000 ball points inside IBP, CROWN-IBP and CROWN; each rule holds at every float32 point of grids
// over boxes of every kind; a point ball covers each layer's float32 rounding (and fails without its widening).
import { describe, expect, test } from 'bun:test';
import { noGrad } from '../../src/autodiff/index.ts';
import { withBackend } from '../../src/backend/index.ts';
import { initParams, intervalLogits, Sequential, type LayerSpec } from '../../src/nn/index.ts';
import { layerForward } from '../../src/nn/layers.ts';
import { Tensor } from '../../src/tensor/index.ts';
import { relaxation, type ElementwiseSpec } from '../../src/verify/activations.ts';
import {
  certify,
  inputBox,
  intervalBounds,
  layerBox,
  layerInputBoxes,
  outputBounds,
  type Box,
} from '../../src/verify/index.ts';
import { BALL_SHAPE, ballImage, ENGINES, expectBallInsideBounds } from '../helpers/ball.ts';
import { conv, dense } from '../helpers/layer-specs.ts';

const shape = BALL_SHAPE;
const models: Record<string, LayerSpec[]> = {
  'every new type between conv, pooling and dense layers': [
    { type: 'affine', scale: [-1.5], shift: [0.2] },
    conv('c1', 1, 3, 3, 2, 1),
    { type: 'leaky-relu', alpha: 0.1 },
    { type: 'affine', scale: [0.5, -2, 1.25], shift: [0.1, 0, -0.3] },
    conv('c2', 3, 4, 3, 1, 1, { buckets: 20, seed: 11 }),
    { type: 'tanh' },
    { type: 'maxpool2d', kernelSize: 2, stride: 2 },
    { type: 'clip', min: -0.5, max: 0.6 },
    { type: 'avgpool2d', kernelSize: 2, stride: 1 },
    { type: 'flatten' },
    dense('d1', 16, 12),
    { type: 'sigmoid' },
    {
      type: 'affine',
      scale: [3, -3, 2, -2, 1, -1, 0.5, -0.5, 4, -4, 1.5, -1.5],
      shift: [-1.5, 1.5, -1, 1, -0.5, 0.5, 0, 0, -2, 2, 0.25, -0.25],
    },
    dense('d2', 12, 8),
    { type: 'clip', min: null, max: 0.3 },
    dense('d3', 8, 5),
  ],
  'a new type as last layer (margins from the logits)': [
    { type: 'flatten' },
    dense('d1', 144, 10),
    { type: 'leaky-relu', alpha: 0 },
    { type: 'clip', min: 0.1, max: null },
    dense('d2', 10, 6),
    { type: 'tanh' },
    dense('d3', 6, 5),
    { type: 'affine', scale: [2, -1, 0.5, 1, -3], shift: [0, 0.5, -0.5, 1, 0] },
  ],
};

describe('bounds through the new layers hold for every engine', () => {
  for (const [name, layers] of Object.entries(models)) {
    const model = new Sequential(shape, layers, initParams(layers, 3));
    for (const method of ['ibp', 'crown-ibp', 'crown'] as const)
      test(`${name}, ${method}: the logits at 1,000 points of the ball lie within the bounds, margins above theirs`, () => {
        for (const eps of [0.01, 0.1, 0.3])
          for (let s = 0; s < 2; s++) {
            const x = ballImage(300 + s);
            const ref = noGrad(() => model.forward(new Tensor([1, ...shape], x))).data;
            const classes = ref.length;
            let y = 0;
            for (let j = 1; j < classes; j++) if (ref[j] > ref[y]) y = j;
            const cert = certify(model, x, y, eps, [0, 1], {}, { method });
            const box = outputBounds(model, inputBox(x, shape, eps), method);
            expectBallInsideBounds(
              model,
              x,
              y,
              eps,
              { box, marginLower: cert.marginLower },
              17 + s,
            );
          }
      }, 60_000); // 6 balls of 1,000 points in two engines: several seconds on a loaded machine
  }

  test("CROWN tightens the new layers' boxes inside IBP's, and its margins beat CROWN-IBP's", () => {
    const layers = models['every new type between conv, pooling and dense layers'];
    const model = new Sequential(shape, layers, initParams(layers, 3));
    let tighter = 0;
    for (let s = 0; s < 3; s++) {
      const input = inputBox(ballImage(700 + s), shape, 0.05);
      const ibp = [input, ...intervalBounds(model, input)];
      const crown = layerInputBoxes(model, input, 'crown');
      crown.forEach((b, i) => {
        for (let k = 0; k < b.lo.length; k++) {
          const allow = 1e-9 * (1 + Math.abs(ibp[i].lo[k]) + Math.abs(ibp[i].hi[k]));
          expect(b.lo[k]).toBeGreaterThanOrEqual(ibp[i].lo[k] - allow);
          expect(b.hi[k]).toBeLessThanOrEqual(ibp[i].hi[k] + allow);
          if (b.hi[k] - b.lo[k] < ibp[i].hi[k] - ibp[i].lo[k] - 1e-9) tighter++;
        }
      });
      const worst = (m: Float64Array) => Math.min(...Array.from(m).filter((v) => !Number.isNaN(v)));
      const a = certify(model, ballImage(700 + s), 0, 0.05, [0, 1], {}, { method: 'crown-ibp' });
      const b = certify(model, ballImage(700 + s), 0, 0.05, [0, 1], {}, { method: 'crown' });
      expect(worst(b.marginLower)).toBeGreaterThan(worst(a.marginLower));
    }
    expect(tighter).toBeGreaterThan(100);
  });

  test("certified training's interval logits through a negative-scale affine match the verifier's bounds", () => {
    const layers = models['a new type as last layer (margins from the logits)'];
    const model = new Sequential(shape, layers, initParams(layers, 4));
    const x = ballImage(900);
    const { lo, hi } = intervalLogits(model, new Tensor([1, ...shape], x), 0.1);
    const boxes = intervalBounds(model, inputBox(x, shape, 0.1));
    const last = boxes[boxes.length - 1];
    for (let j = 0; j < 5; j++) {
      expect(lo.data[j]).toBeLessThanOrEqual(hi.data[j]);
      expect(Math.abs(lo.data[j] - last.lo[j])).toBeLessThan(2e-3); // unwidened float32 against widened float64
      expect(Math.abs(hi.data[j] - last.hi[j])).toBeLessThan(2e-3);
    }
  });
});

// Every float32 value in [l, u] the forward can see: a grid, the ends and their float32 neighbours.
function floatGrid(l: number, u: number, n = 2001): Float32Array {
  const pts: number[] = [];
  const up = (v: number) => {
    const f = Math.fround(v);
    return f >= v ? f : Math.fround(f + Math.abs(f) * 2 ** -23 + 2 ** -149);
  };
  const down = (v: number) => {
    const f = Math.fround(v);
    return f <= v ? f : Math.fround(f - Math.abs(f) * 2 ** -23 - 2 ** -149);
  };
  const a = up(l),
    b = down(u);
  if (a > b) return new Float32Array(0);
  for (let k = 0; k < n; k++)
    pts.push(Math.min(b, Math.max(a, Math.fround(a + ((b - a) * k) / (n - 1)))));
  pts.push(a, b, up(0), down(0), 0);
  return Float32Array.from(pts.filter((v) => v >= a && v <= b));
}

const layerCases: ElementwiseSpec[] = [
  { type: 'leaky-relu', alpha: 0.1 },
  { type: 'leaky-relu', alpha: 0.3 },
  { type: 'leaky-relu', alpha: 0 },
  { type: 'sigmoid' },
  { type: 'tanh' },
  { type: 'clip', min: -0.3, max: 0.7 },
  { type: 'clip', min: 0.1, max: null },
  { type: 'clip', min: null, max: -0.2 },
  { type: 'affine', scale: [-1.7], shift: [0.3] },
  { type: 'affine', scale: [0.1], shift: [-0.7] },
];
// Boxes of every kind: straddling 0 (wider left, wider right), one-sided, narrow, a point, far out, huge.
const boxes: [number, number][] = [
  [-3, 2],
  [-1, 4],
  [-0.5, 0.45],
  [-6, -0.25],
  [-2, -1.9],
  [0.3, 5],
  [1, 1.05],
  [0.15, 0.5],
  [-0.3, 0.7],
  [0.7, 0.7],
  [-0.1, -0.1],
  [-25, 20],
  [12, 40],
  [-1e-3, 2e-3],
];

describe('each rule holds at every float32 point of boxes of every kind', () => {
  for (const spec of layerCases)
    test(JSON.stringify(spec), () => {
      const pre: Box = {
        shape: [boxes.length],
        lo: Float64Array.from(boxes, (b) => b[0]),
        hi: Float64Array.from(boxes, (b) => b[1]),
      };
      const ibp = layerBox(spec, pre, new Map());
      const r = relaxation(spec, pre);
      boxes.forEach(([l, u], i) => {
        const xs = floatGrid(l, u);
        const ys = noGrad(() => layerForward(spec, new Tensor([xs.length, 1], xs), new Map())).data;
        let gapLo = Infinity,
          gapUp = Infinity;
        xs.forEach((x, k) => {
          const y = ys[k];
          const where = `box [${l}, ${u}] at x = ${x}: y = ${y}`;
          if (!(y >= ibp.lo[i] && y <= ibp.hi[i]))
            throw new Error(`${where} outside the interval [${ibp.lo[i]}, ${ibp.hi[i]}]`);
          const lower = r.exact[i] ? x : r.loSlope[i] * x + r.loIntercept[i] - r.loErr[i];
          const upper = r.exact[i] ? x : r.upSlope[i] * x + r.upIntercept[i] + r.upErr[i];
          if (!(y >= lower)) throw new Error(`${where} below the lower line ${lower}`);
          if (!(y <= upper)) throw new Error(`${where} above the upper line ${upper}`);
          gapLo = Math.min(gapLo, y - lower);
          gapUp = Math.min(gapUp, upper - y);
        });
        // Every line touches the function somewhere in the box (up to its error allowance): none slack.
        if (xs.length) {
          expect(gapLo).toBeLessThan(1e-5 * (1 + Math.abs(u)));
          expect(gapUp).toBeLessThan(1e-5 * (1 + Math.abs(u)));
        }
      });
    });

  test('the relaxations are the expected ones: chord where the function is convex, tangent where concave, exact inside a clip', () => {
    const pre = (l: number, u: number): Box => ({
      shape: [1],
      lo: Float64Array.of(l),
      hi: Float64Array.of(u),
    });
    // tanh on [0.5, 2] (concave): lower line = chord, upper = tangent at 1.25.
    const t = relaxation({ type: 'tanh' }, pre(0.5, 2));
    const chord = (Math.tanh(2) - Math.tanh(0.5)) / 1.5;
    expect(t.loSlope[0]).toBeCloseTo(chord, 8);
    expect(t.upSlope[0]).toBeCloseTo(1 - Math.tanh(1.25) ** 2, 8);
    // Sigmoid straddling 0: both slopes positive and at most the chord's.
    const s = relaxation({ type: 'sigmoid' }, pre(-2, 3));
    const sc = (1 / (1 + Math.exp(-3)) - 1 / (1 + Math.exp(2))) / 5;
    expect(s.loSlope[0]).toBeGreaterThan(0);
    expect(s.loSlope[0]).toBeLessThanOrEqual(sc);
    expect(s.upSlope[0]).toBeLessThanOrEqual(sc);
    // Clip: inside is the identity with no error, fully outside a constant, straddling a chord above.
    const c = relaxation(
      { type: 'clip', min: 0, max: 1 },
      { shape: [3], lo: Float64Array.of(0.2, 2, -1), hi: Float64Array.of(0.8, 3, 0.5) },
    );
    expect(Array.from(c.exact)).toEqual([1, 0, 0]);
    expect([c.loSlope[1], c.loIntercept[1], c.upSlope[1], c.upIntercept[1]]).toEqual([0, 1, 0, 1]);
    expect(c.upSlope[2]).toBeCloseTo(0.5 / 1.5, 8); // lowered by 1e-9 of itself, for its float64 rounding
    expect(c.loSlope[2]).toBe(0);
    // Leaky relu straddling: the lower slope is CROWN's adaptive 1 or α, the upper the chord.
    const k = relaxation(
      { type: 'leaky-relu', alpha: 0.25 },
      { shape: [2], lo: Float64Array.of(-1, -3), hi: Float64Array.of(2, 1) },
    );
    expect([k.loSlope[0], k.loSlope[1]]).toEqual([1, 0.25]);
    expect(k.upSlope[0]).toBeCloseTo((2 + 0.25) / 3, 12); // rounded up by 8 float64 ulps
  });
});

/** The layer's exact value at x, in float64. */
function exact(spec: ElementwiseSpec, x: number): number {
  switch (spec.type) {
    case 'leaky-relu':
      return x >= 0 ? x : spec.alpha * x;
    case 'sigmoid':
      return 1 / (1 + Math.exp(-x));
    case 'tanh':
      return Math.tanh(x);
    case 'clip':
      return Math.min(Math.max(x, spec.min ?? -Infinity), spec.max ?? Infinity);
    case 'affine':
      return spec.scale[0] * x + spec.shift[0];
  }
}

describe("float32 rounding is covered: at a point ball each layer's output lies inside its bounds, in every engine", () => {
  // The layer alone on the input: the box is the exact point, so only the rounding allowance separates the bounds
  // from the float64 value, and the float32 output is almost never that value.
  const n = 1500;
  const xs = Float32Array.from({ length: n }, (_, i) =>
    Math.fround(((i * 0.6180339887) % 1) * 16 - 8),
  );
  for (const spec of [...layerCases, { type: 'clip', min: 0.1, max: 0.7 } as ElementwiseSpec])
    test(JSON.stringify(spec), () => {
      const model = new Sequential([n], [spec], new Map());
      const input = inputBox(xs, [n], 0, [-8, 8]);
      const bounds = (['ibp', 'crown-ibp', 'crown'] as const).map((m) =>
        outputBounds(model, input, m),
      );
      let rounded = 0;
      for (const [engine, backend] of ENGINES) {
        const y = withBackend(
          backend,
          () => noGrad(() => model.forward(new Tensor([1, n], xs))).data,
        );
        bounds.forEach((b, m) => {
          for (let i = 0; i < n; i++)
            if (!(y[i] >= b.lo[i] && y[i] <= b.hi[i]))
              throw new Error(
                `${engine}, method ${m}: x = ${xs[i]}, y = ${y[i]} outside [${b.lo[i]}, ${b.hi[i]}]`,
              );
        });
        for (let i = 0; i < n; i++) if (y[i] !== exact(spec, xs[i])) rounded++;
      }
      // The float32 outputs really differ from the exact values (but for α = 0, where nothing rounds).
      if (!(spec.type === 'leaky-relu' && spec.alpha === 0))
        expect(rounded).toBeGreaterThan(n / 10);
    });
});

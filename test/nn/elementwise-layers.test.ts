// The elementwise layers of imported models (leaky relu, sigmoid, tanh, clip, affine): float32 forward values
// against float64 references, gradients against central differences, their kinks, shape errors, and the
// engine choice (no compiled chain runs them: the autodiff does, on every backend, with the same numbers).
import { describe, expect, test } from 'bun:test';
import { gradients, noGrad, ops } from '../../src/autodiff/index.ts';
import { createWasmBackend, referenceBackend, withBackend } from '../../src/backend/index.ts';
import {
  chainLayers,
  initParams,
  isChainLayer,
  layerOutputShape,
  Sequential,
  type LayerSpec,
} from '../../src/nn/index.ts';
import { applyScale } from '../../src/defense/gradient-inhibition.ts';
import { crownIbpMargins } from '../../src/nn/crown-ibp.ts';
import { layerForward } from '../../src/nn/layers.ts';
import { Tensor } from '../../src/tensor/index.ts';
import { randomTensor } from '../helpers/random.ts';
import { dense } from '../helpers/layer-specs.ts';

const none = new Map<string, Tensor>();
const run = (spec: LayerSpec, x: Tensor) => noGrad(() => layerForward(spec, x, none));

/** Each new type with its float64 reference, on an input of shape [2, 3, 2, 2] (channel = index / 4 % 3). */
const cases: [LayerSpec, (v: number, channel: number) => number][] = [
  [{ type: 'leaky-relu', alpha: 0.1 }, (v) => (v >= 0 ? v : 0.1 * v)],
  [{ type: 'leaky-relu', alpha: 0 }, (v) => Math.max(v, 0)],
  [{ type: 'sigmoid' }, (v) => 1 / (1 + Math.exp(-v))],
  [{ type: 'tanh' }, Math.tanh],
  [{ type: 'clip', min: -0.5, max: 0.25 }, (v) => Math.min(Math.max(v, -0.5), 0.25)],
  [{ type: 'clip', min: null, max: 0.3 }, (v) => Math.min(v, 0.3)],
  [{ type: 'clip', min: 0.1, max: null }, (v) => Math.max(v, 0.1)],
  [{ type: 'affine', scale: [-1.5], shift: [0.25] }, (v) => -1.5 * v + 0.25],
  [
    { type: 'affine', scale: [0.5, -2, 1.25], shift: [0.1, 0, -0.3] },
    (v, c) => [0.5, -2, 1.25][c] * v + [0.1, 0, -0.3][c],
  ],
];
const label = (s: LayerSpec) => JSON.stringify(s);

describe('forward values', () => {
  for (const [spec, ref] of cases)
    test(`${label(spec)}: float32 within a few ulps of the float64 reference, float64 to 1e-15`, () => {
      const x64 = randomTensor([2, 3, 2, 2], -4, 4, 'f64');
      const x32 = new Tensor(x64.shape, Float32Array.from(x64.data));
      const y32 = run(spec, x32),
        y64 = run(spec, x64);
      expect(y32.dtype).toBe('f32');
      expect(y32.shape).toEqual([2, 3, 2, 2]);
      for (let i = 0; i < x32.size; i++) {
        const c = Math.floor(i / 4) % 3;
        const want32 = ref(x32.data[i], c);
        expect(Math.abs(y32.data[i] - want32)).toBeLessThanOrEqual(
          4e-7 * Math.max(1, Math.abs(want32)),
        );
        const want64 = ref(x64.data[i], c);
        expect(Math.abs(y64.data[i] - want64)).toBeLessThanOrEqual(
          1e-15 * Math.max(1, Math.abs(want64)),
        );
      }
    });

  test('affine per feature of a [N, D] activation, and exact float32 values where nothing rounds', () => {
    const spec: LayerSpec = { type: 'affine', scale: [2, -0.5, 1], shift: [1, 0.25, -3] };
    const y = run(spec, new Tensor([2, 3], Float32Array.of(1, 2, 3, -1, 0.5, 0)));
    expect(Array.from(y.data)).toEqual([3, -0.75, 0, -1, 0, -3]);
    expect(
      Array.from(
        run({ type: 'clip', min: 0, max: 6 }, new Tensor([1, 3], Float32Array.of(-1, 3, 7))).data,
      ),
    ).toEqual([0, 3, 6]);
  });

  test('the sigmoid saturates without overflow or NaN, value and gradient, far out on both sides', () => {
    const x = new Tensor([1, 4], Float32Array.of(-1000, -90, 90, 1000));
    const { value, grads } = gradients(
      () => ops.sum(layerForward({ type: 'sigmoid' }, x, none)),
      [x],
    );
    expect(Number.isFinite(value.item())).toBe(true);
    expect(Array.from(run({ type: 'sigmoid' }, x).data)).toEqual([0, 0, 1, 1]);
    for (const g of grads[0].data) expect(g).toBe(0);
  });
});

/** L = Σ layer(x) ⊙ R against central differences in float64, element by element. */
function gradCheck(spec: LayerSpec, x: Tensor) {
  const r = randomTensor([...x.shape], -1, 1, 'f64');
  const loss = () => ops.sum(ops.mul(layerForward(spec, x, none), r));
  const g = gradients(loss, [x]).grads[0];
  expect(g.shape).toEqual(x.shape);
  const h = 1e-6;
  for (let i = 0; i < x.size; i++) {
    const orig = x.data[i];
    x.data[i] = orig + h;
    const up = noGrad(loss).item();
    x.data[i] = orig - h;
    const down = noGrad(loss).item();
    x.data[i] = orig;
    const numeric = (up - down) / (2 * h);
    expect(Math.abs(g.data[i] - numeric)).toBeLessThanOrEqual(
      1e-6 * Math.max(1, Math.abs(numeric)),
    );
  }
}

describe('gradients through each layer match central differences (float64)', () => {
  for (const [spec] of cases)
    test(label(spec), () => {
      const x = randomTensor([2, 3, 2, 2], -3, 3, 'f64');
      // Keep finite differences off the kinks (0 for leaky relu, the clip bounds).
      for (let i = 0; i < x.size; i++) {
        const kinks = [0, -0.5, 0.25, 0.3, 0.1];
        while (kinks.some((k) => Math.abs(x.data[i] - k) < 1e-3)) x.data[i] += 0.01;
      }
      gradCheck(spec, x);
    });
  test('affine per feature of [N, D]', () =>
    gradCheck(
      { type: 'affine', scale: [2, -0.5, 1], shift: [1, 0.25, -3] },
      randomTensor([4, 3], -2, 2, 'f64'),
    ));
  test('a network of every new type between dense layers, gradients of input and weights', () => {
    const layers: LayerSpec[] = [
      { type: 'flatten' },
      dense('a', 6, 5),
      { type: 'leaky-relu', alpha: 0.2 },
      { type: 'affine', scale: [1, -1, 2, 0.5, -0.25], shift: [0, 0.1, 0.2, 0.3, 0.4] },
      { type: 'tanh' },
      dense('b', 5, 4),
      { type: 'sigmoid' },
      { type: 'clip', min: 0.3, max: 0.7 },
      dense('c', 4, 3),
    ];
    const params = new Map(
      [...initParams(layers, 5)].map(([k, t]) => [
        k,
        new Tensor(t.shape, Float64Array.from(t.data)),
      ]),
    );
    const model = new Sequential([1, 2, 3], layers, params);
    const x = randomTensor([2, 1, 2, 3], -1, 1, 'f64');
    const r = randomTensor([2, 3], -1, 1, 'f64');
    const loss = () => noGrad(() => ops.sum(ops.mul(model.forward(x), r))).item();
    const h = 1e-6;
    const check = (t: Tensor, g: Tensor) => {
      for (let i = 0; i < t.size; i++) {
        const orig = t.data[i];
        t.data[i] = orig + h;
        const up = loss();
        t.data[i] = orig - h;
        const down = loss();
        t.data[i] = orig;
        expect(Math.abs(g.data[i] - (up - down) / (2 * h))).toBeLessThanOrEqual(1e-6);
      }
    };
    const out = model.lossGradients(x, (z) => ops.sum(ops.mul(z, r)), {
      input: true,
      params: true,
    });
    check(x, out.dx!);
    for (const [name, g] of out.grads!) check(params.get(name)!, g);
  });
});

describe('kinks', () => {
  test('leaky relu at 0 has gradient α (the left slope, as PyTorch), 1 right of it, α left', () => {
    const x = new Tensor([3], Float64Array.of(-1, 0, 1));
    const g = gradients(
      () => ops.sum(layerForward({ type: 'leaky-relu', alpha: 0.25 }, x, none)),
      [x],
    );
    expect(Array.from(g.grads[0].data)).toEqual([0.25, 0.25, 1]);
  });
  test('clip passes the gradient at its bounds (clamp is inclusive) and blocks it outside', () => {
    const x = new Tensor([5], Float64Array.of(-1, 0, 0.5, 1, 2));
    const g = gradients(
      () => ops.sum(layerForward({ type: 'clip', min: 0, max: 1 }, x, none)),
      [x],
    );
    expect(Array.from(g.grads[0].data)).toEqual([0, 1, 1, 1, 0]);
  });
});

describe('shapes', () => {
  test('elementwise layers keep the shape; affine checks its length against channels or features', () => {
    for (const [spec] of cases) expect(layerOutputShape(spec, [3, 5, 5], 0)).toEqual([3, 5, 5]);
    const affine: LayerSpec = { type: 'affine', scale: [1, 2], shift: [0, 0] };
    expect(layerOutputShape(affine, [2], 4)).toEqual([2]);
    expect(() => layerOutputShape(affine, [3, 4, 4], 4)).toThrow(
      'layers[4] (affine): has 2 scale/shift entries, expects 1 or 3 (one per channel or feature), input shape [3, 4, 4]',
    );
    expect(() => layerOutputShape(affine, [2, 4], 1)).toThrow(
      'layers[1] (affine): expects [C, H, W] or [D], input shape [2, 4]',
    );
    expect(() => layerOutputShape({ type: 'affine', scale: [1, 2], shift: [0] }, [2], 2)).toThrow(
      'layers[2] (affine): scale has 2 entries but shift 1',
    );
    expect(
      () =>
        new Sequential(
          [3, 4, 4],
          [affine, { type: 'flatten' }, dense('d', 48, 2)],
          initParams([], 0),
        ),
    ).toThrow('layers[0] (affine)');
  });
});

describe('engines', () => {
  const layers: LayerSpec[] = [
    { type: 'affine', scale: [2], shift: [-1] },
    { type: 'flatten' },
    dense('a', 16, 8),
    { type: 'tanh' },
    dense('b', 8, 3),
  ];
  test('the compiled engines know only LAYER_KERNEL types: chainLayers is null for a model with any other', () => {
    expect(chainLayers(layers)).toBeNull();
    expect(layers.map(isChainLayer)).toEqual([false, true, true, false, true]);
    const plain = layers.filter(isChainLayer);
    expect(chainLayers(plain)).toBe(plain);
  });

  test('on the WASM backend such a model runs the autodiff (no chain compiled), bit for bit the same as its primitives', () => {
    const wasm = createWasmBackend()!;
    let compiled = 0;
    const spy = {
      ...wasm,
      compileChain: (...a: Parameters<NonNullable<typeof wasm.compileChain>>) => (
        compiled++,
        wasm.compileChain!(...a)
      ),
    };
    const model = new Sequential([1, 4, 4], layers, initParams(layers, 2));
    const x = randomTensor([5, 1, 4, 4], 0, 1, 'f32');
    const y = withBackend(spy, () => model.forward(x));
    const direct = withBackend(wasm, () =>
      noGrad(() => layers.reduce((h, s) => layerForward(s, h, model.params), x)),
    );
    expect(compiled).toBe(0);
    expect(Array.from(y.data)).toEqual(Array.from(direct.data));
    const ref = withBackend(referenceBackend, () => model.forward(x));
    for (let i = 0; i < y.size; i++) expect(Math.abs(y.data[i] - ref.data[i])).toBeLessThan(1e-5);
    // Gradients too: the same path, both engines.
    const loss = (z: Tensor) => ops.sum(z);
    const gw = withBackend(spy, () => model.lossGradients(x, loss, { input: true, params: true }));
    expect(compiled).toBe(0);
    expect(gw.dx!.shape).toEqual(x.shape);
  });

  test('a model of the old layer types still compiles its chain', () => {
    const wasm = createWasmBackend()!;
    let compiled = 0;
    const spy = {
      ...wasm,
      compileChain: (...a: Parameters<NonNullable<typeof wasm.compileChain>>) => (
        compiled++,
        wasm.compileChain!(...a)
      ),
    };
    const plain: LayerSpec[] = [{ type: 'flatten' }, dense('a', 16, 3)];
    const model = new Sequential([1, 4, 4], plain, initParams(plain, 2));
    withBackend(spy, () => model.forward(randomTensor([2, 1, 4, 4], 0, 1, 'f32')));
    expect(compiled).toBe(1);
  });
});

describe('consumers that cannot take them refuse by name', () => {
  const layers: LayerSpec[] = [
    { type: 'flatten' },
    dense('a', 16, 8),
    { type: 'sigmoid' },
    dense('b', 8, 3),
    { type: 'affine', scale: [1, 2, 3], shift: [0, 0, 0] },
  ];
  test('CROWN-IBP training names the layer it cannot train through', () => {
    const body = layers.slice(0, 4);
    const model = new Sequential([1, 4, 4], body, initParams(body, 1));
    const x = randomTensor([2, 1, 4, 4], 0, 1, 'f32');
    const mask = new Tensor([2, 3], Float32Array.of(1, 0, 0, 0, 1, 0));
    expect(() => crownIbpMargins(model, x, mask, 0.1)).toThrow(
      "crown-ibp: layers[2] has type 'sigmoid', which it cannot train through",
    );
  });
  test("gradient inhibition's scale stage refuses a layer after the last weighted one that would not scale", () => {
    const params = initParams(layers, 1);
    expect(() => applyScale(layers, params, 10)).toThrow(
      'gradient inhibition: scale needs the logits to scale with the last weighted layer, but layers[4] (affine) follows it',
    );
    // Relu, leaky relu, pooling and flatten commute with a positive scale: still allowed.
    const fine: LayerSpec[] = [...layers.slice(0, 4), { type: 'leaky-relu', alpha: 0.1 }];
    expect(applyScale(fine, params, 10).get('b.w')!.data[0]).toBeCloseTo(
      10 * params.get('b.w')!.data[0],
      5,
    );
  });
});

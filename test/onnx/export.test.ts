// The exporter: every layer type (the five elementwise ones included) written as ONNX computes what hashguard computes
// (checked by the float64 ONNX interpreter and by importing it back), and defended models export exactly the
// logits their DefendedModel answers with (static GI stages), or are refused (a random stage).
import { describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { referenceBackend, withBackend } from '../../src/backend/index.ts';
import { harden } from '../../src/defense/index.ts';
import { loadModelDir } from '../../src/io/index.ts';
import { modelFromFile, Sequential, type LayerSpec } from '../../src/nn/index.ts';
import { Tensor } from '../../src/tensor/index.ts';
import { decodeOnnxModel, exportOnnx, importOnnx, OnnxError } from '../../src/onnx/index.ts';
import { values } from './onnx-builder.ts';
import { runOnnx } from './reference-onnx.ts';

const t = (shape: number[], seed: number, scale = 0.4) =>
  new Tensor(
    shape,
    Float32Array.from(
      values(
        shape.reduce((a, b) => a * b, 1),
        seed,
        scale,
      ),
    ),
  );

const layers: LayerSpec[] = [
  { type: 'affine', scale: [2, 0.5], shift: [-1, 0.25] },
  {
    type: 'conv2d',
    inChannels: 2,
    outChannels: 3,
    kernelSize: 3,
    stride: 1,
    padding: 1,
    weight: 'c.w',
    bias: 'c.b',
  },
  { type: 'leaky-relu', alpha: 0.1 },
  { type: 'avgpool2d', kernelSize: 2, stride: 2 },
  { type: 'affine', scale: [1.5], shift: [0.1] },
  { type: 'tanh' },
  { type: 'flatten' },
  {
    type: 'hashed-dense',
    inDim: 12,
    outDim: 5,
    weight: 'h.w',
    bias: 'h.b',
    hash: { buckets: 7, seed: 99 },
  },
  { type: 'clip', min: -0.5, max: null },
  { type: 'affine', scale: [1, 2, 3, 4, 5], shift: [0, 0, 0, 0, 1] },
  { type: 'sigmoid' },
  { type: 'clip', min: null, max: 0.9 },
  { type: 'dense', inDim: 5, outDim: 3, weight: 'd.w', bias: 'd.b' },
];
const params = new Map([
  ['c.w', t([3, 2, 3, 3], 1)],
  ['c.b', t([3], 2)],
  ['h.w', t([7], 3)],
  ['h.b', t([5], 4)],
  ['d.w', t([3, 5], 5)],
  ['d.b', t([3], 6)],
]);
const shape = [2, 4, 4] as const;
const x = new Tensor(
  [2, ...shape],
  Float32Array.from(values(64, 8), (v) => (v + 1) / 2),
);

describe('every layer type', () => {
  const bytes = exportOnnx(layers, params, shape, 3);
  const want = withBackend(referenceBackend, () =>
    new Sequential(shape, layers, params).forward(x),
  );

  test("the ONNX graph computes the model's logits (float64 interpreter, 1e-5 relative)", () => {
    const got = runOnnx(decodeOnnxModel(bytes), {
      dims: [2, ...shape],
      data: Float64Array.from(x.data),
    });
    expect(got.dims).toEqual([2, 3]);
    const scale = Math.max(1, ...want.data.map(Math.abs));
    for (let i = 0; i < 6; i++)
      expect(Math.abs(got.data[i] - want.data[i])).toBeLessThanOrEqual(1e-5 * scale);
  });

  test('ops used: Mul+Add for affine, LeakyRelu, Clip with opset-13 inputs, Gemm for the expanded hashed layer', () => {
    const ops = decodeOnnxModel(bytes).graph.node.map((n) => n.opType);
    expect(ops).toEqual([
      'Mul',
      'Add',
      'Conv',
      'LeakyRelu',
      'AveragePool',
      'Mul',
      'Add',
      'Tanh',
      'Flatten',
      'Gemm',
      'Clip',
      'Mul',
      'Add',
      'Sigmoid',
      'Clip',
      'Gemm',
    ]);
    const clip = decodeOnnxModel(bytes).graph.node.filter((n) => n.opType === 'Clip');
    expect(clip.map((n) => n.input.length)).toEqual([2, 3]);
    expect(clip[1].input[1]).toBe('');
  });

  test('importing it back gives the same layers (hashed → dense) and logits', () => {
    const back = importOnnx(bytes);
    expect(back.layers.map((l) => l.type)).toEqual(
      layers.map((l) => (l.type === 'hashed-dense' ? 'dense' : l.type)),
    );
    const got = withBackend(referenceBackend, () =>
      new Sequential(back.inputShape, back.layers, back.params).forward(x),
    );
    for (let i = 0; i < 6; i++) expect(got.data[i]).toBeCloseTo(want.data[i], 5);
  });

  test('giScale multiplies the logits by a final Mul', () => {
    const scaled = decodeOnnxModel(exportOnnx(layers, params, shape, 3, { giScale: 10 }));
    expect(scaled.graph.node.at(-1)).toMatchObject({ opType: 'Mul', output: ['logits'] });
    const got = runOnnx(scaled, { dims: [2, ...shape], data: Float64Array.from(x.data) });
    for (let i = 0; i < 6; i++) expect(got.data[i]).toBeCloseTo(10 * want.data[i], 4);
  });

  test('refuses a class count the layers do not end in, and missing tensors', () => {
    expect(() => exportOnnx(layers, params, shape, 4)).toThrow(OnnxError);
    const partial = new Map(params);
    partial.delete('d.b');
    expect(() => exportOnnx(layers, partial, shape, 3)).toThrow(
      "needs tensor 'd.b', which is missing",
    );
  });
});

describe('defended models', () => {
  test('static GI stages (magnitude, scale) are in the weights: the ONNX logits are the defended logits', async () => {
    const { manifest, tensors } = await loadModelDir(
      join(import.meta.dir, '../../models/mnist-mlp-h8'),
    );
    const hardened = await harden(modelFromFile(manifest, tensors), [
      'magnitude:0.05',
      'scale:100',
    ]);
    const m = hardened.manifest;
    const bytes = exportOnnx(m.layers, hardened.network.params, m.input.shape, 10, {
      defense: m.defense as { stages: { kind: string }[] },
    });
    const back = importOnnx(bytes);
    const img = new Tensor(
      [2, 1, 28, 28],
      Float32Array.from(values(2 * 784, 3), (v) => (v + 1) / 2),
    );
    const [want, got] = withBackend(referenceBackend, () => [
      hardened.defended.forward(img),
      new Sequential(back.inputShape, back.layers, back.params).forward(img),
    ]);
    const scale = Math.max(...want.data.map(Math.abs));
    for (let i = 0; i < 20; i++)
      expect(Math.abs(got.data[i] - want.data[i])).toBeLessThanOrEqual(1e-6 * scale);
  });

  test('a random stage is refused with the reason', async () => {
    const { manifest, tensors } = await loadModelDir(
      join(import.meta.dir, '../../models/mnist-mlp-h8'),
    );
    const hardened = await harden(modelFromFile(manifest, tensors), ['random:50,150,0.05']);
    expect(() =>
      exportOnnx(manifest.layers, tensors, [1, 28, 28], 10, {
        defense: hardened.manifest.defense as { stages: { kind: string }[] },
      }),
    ).toThrow('ONNX has no such op');
  });
});

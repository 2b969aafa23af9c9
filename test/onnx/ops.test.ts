// Each mapped op on a graph built for it: the imported model's logits (reference engine, float32) against a float64
// run of the ONNX graph itself (reference-onnx.ts), within 1e-5 relative; plus the layers each import produces.
import { describe, expect, test } from 'bun:test';
import { referenceBackend, withBackend } from '../../src/backend/index.ts';
import { Sequential } from '../../src/nn/index.ts';
import { Tensor } from '../../src/tensor/index.ts';
import {
  encodeOnnxModel,
  importOnnx,
  type ImportOptions,
  type ImportedOnnx,
} from '../../src/onnx/index.ts';
import { ProtoWriter } from '../../src/onnx/protobuf-writer.ts';
import { bytesOf, f32, float, i64, model, node, values, type GraphSpec } from './onnx-builder.ts';
import { runOnnx } from './reference-onnx.ts';

const TOL = 1e-5;

/** Imports g, runs both on two seeded inputs in [0, 1] and compares; returns the import. */
function check(
  g: GraphSpec,
  options: ImportOptions = {},
  prepare: (x: Float64Array) => Float64Array = (x) => x,
): ImportedOnnx {
  const r = importOnnx(bytesOf(g), options);
  const per = r.inputShape.reduce((a, b) => a * b, 1);
  const x = values(2 * per, 7).map((v) => (v + 1) / 2);
  const graphDims = g.input.slice(1).every((d) => typeof d === 'number')
    ? (g.input.slice(1) as number[])
    : r.inputShape;
  const want = runOnnx(model(g), {
    dims: [2, ...graphDims],
    data: prepare(Float64Array.from(x, Math.fround)),
  });
  const logits = withBackend(referenceBackend, () =>
    new Sequential(r.inputShape, r.layers, r.params).forward(
      new Tensor([2, ...r.inputShape], Float32Array.from(x)),
    ),
  );
  const got = Float64Array.from(logits.data);
  if (r.output !== 'logits') {
    const k = got.length / 2;
    for (let row = 0; row < 2; row++) {
      const z = got.subarray(row * k, (row + 1) * k);
      const m = Math.max(...z);
      const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
      z.forEach((v, j) => (z[j] = r.output === 'softmax' ? Math.exp(v - lse) : v - lse));
    }
  }
  expect(got.length).toBe(want.data.length);
  const scale = Math.max(1, ...want.data.map(Math.abs));
  const err = Math.max(...got.map((v, i) => Math.abs(v - want.data[i])));
  expect(err).toBeLessThanOrEqual(TOL * scale);
  return r;
}

const types = (r: ImportedOnnx) => r.layers.map((l) => l.type);
const conv = (name: string, o: number, i: number, k: number, seed: number) => [
  f32(`${name}.weight`, [o, i, k, k], values(o * i * k * k, seed, 0.5)),
  f32(`${name}.bias`, [o], values(o, seed + 1, 0.1)),
];
const fc = (name: string, o: number, i: number, seed: number) => [
  f32(`${name}.weight`, [o, i], values(o * i, seed, 0.3)),
  f32(`${name}.bias`, [o], values(o, seed + 1, 0.1)),
];

describe('conv, pools, flatten, gemm', () => {
  test('Conv → Relu → MaxPool → Flatten → Gemm(transB=1): names kept', () => {
    const r = check({
      input: ['N', 1, 6, 6],
      inits: [...conv('c1', 2, 1, 3, 1), ...fc('fc', 3, 8, 3)],
      nodes: [
        node('Conv', ['x', 'c1.weight', 'c1.bias'], 'a', {
          kernel_shape: [3, 3],
          pads: [1, 1, 1, 1],
        }),
        node('Relu', ['a'], 'b'),
        node('MaxPool', ['b'], 'c', { kernel_shape: [3, 3], strides: [3, 3] }),
        node('Flatten', ['c'], 'd'),
        node('Gemm', ['d', 'fc.weight', 'fc.bias'], 'y', { transB: 1 }),
      ],
    });
    expect(types(r)).toEqual(['conv2d', 'relu', 'maxpool2d', 'flatten', 'dense']);
    expect(r.layers[0]).toMatchObject({ weight: 'c1.weight', bias: 'c1.bias', padding: 1 });
    expect(r).toMatchObject({ classes: 3, inputShape: [1, 6, 6], output: 'logits', opset: 13 });
  });

  test('Conv without bias, stride 2; auto_pad SAME_UPPER; AveragePool with a harmless ceil_mode', () => {
    const r = check({
      input: ['N', 2, 7, 7],
      inits: [conv('c1', 3, 2, 3, 5)[0], conv('c2', 2, 3, 3, 9)[0]],
      nodes: [
        node('Conv', ['x', 'c1.weight'], 'a', { strides: [2, 2] }), // 7 → 3
        node('Conv', ['a', 'c2.weight'], 'b', { auto_pad: 'SAME_UPPER' }), // 3 → 3, pad 1
        node('AveragePool', ['b'], 'c', { kernel_shape: [2, 2], strides: [1, 1], ceil_mode: 1 }),
        node('Flatten', ['c'], 'y'),
      ],
    });
    expect(r.layers[1]).toMatchObject({ type: 'conv2d', padding: 1, stride: 1 });
    expect(r.classes).toBe(8);
  });

  test('GlobalAveragePool and GlobalMaxPool cover the whole map', () => {
    for (const op of ['GlobalAveragePool', 'GlobalMaxPool']) {
      const r = check({
        input: ['N', 2, 5, 5],
        nodes: [node(op, ['x'], 'a'), node('Flatten', ['a'], 'y')],
      });
      expect(r.layers[0]).toMatchObject({ kernelSize: 5, stride: 5 });
    }
  });

  test('Flatten axis -3 on [N, C, H, W]; a Flatten of [N, D] is removed', () => {
    const r = check({
      input: ['N', 1, 4, 4],
      nodes: [node('Flatten', ['x'], 'a', { axis: -3 }), node('Flatten', ['a'], 'y')],
    });
    expect(types(r)).toEqual(['flatten']);
    expect(r.notes.join('\n')).toContain('removed');
  });
});

describe('folding into the preceding layer', () => {
  const bn = (name: string, c: number, seed: number) => [
    f32(
      `${name}.s`,
      [c],
      values(c, seed).map((v) => 1 + v / 2),
    ),
    f32(`${name}.b`, [c], values(c, seed + 1)),
    f32(`${name}.m`, [c], values(c, seed + 2)),
    f32(
      `${name}.v`,
      [c],
      values(c, seed + 3).map((v) => 1 + v / 2),
    ),
  ];
  const bnInputs = (x: string, n: string) => [x, `${n}.s`, `${n}.b`, `${n}.m`, `${n}.v`];

  test('BatchNormalization folds into Conv and into Gemm; a leading one becomes an affine layer', () => {
    const r = check({
      input: ['N', 2, 4, 4],
      opset: 15,
      inits: [
        ...bn('bn0', 2, 1),
        ...conv('c', 3, 2, 3, 2),
        ...bn('bn1', 3, 3),
        ...fc('fc', 4, 12, 4),
        ...bn('bn2', 4, 5),
      ],
      nodes: [
        node('BatchNormalization', bnInputs('x', 'bn0'), 'a', { epsilon: float(1e-3) }),
        node('Conv', ['a', 'c.weight', 'c.bias'], 'b'),
        node('BatchNormalization', bnInputs('b', 'bn1'), 'c'),
        node('Relu', ['c'], 'd'),
        node('Flatten', ['d'], 'e'),
        node('Gemm', ['e', 'fc.weight', 'fc.bias'], 'f', { transB: 1 }),
        node('BatchNormalization', bnInputs('f', 'bn2'), 'y'),
      ],
    });
    expect(types(r)).toEqual(['affine', 'conv2d', 'relu', 'flatten', 'dense']);
    expect(r.notes.filter((n) => n.includes('folded into')).length).toBe(2);
  });

  test('a zero Pad (opset 13 inputs, opset 9 attribute) folds into the next Conv, adding to its pads', () => {
    for (const opset of [9, 13]) {
      const padNode =
        opset < 11
          ? node('Pad', ['x'], 'p', { pads: [0, 0, 2, 2, 0, 0, 2, 2] })
          : node('Pad', ['x', 'pads'], 'p');
      const r = check({
        input: ['N', 1, 5, 5],
        opset,
        inits: [...conv('c', 2, 1, 3, 3), i64('pads', [8], [0, 0, 2, 2, 0, 0, 2, 2])],
        nodes: [
          padNode,
          node('Conv', ['p', 'c.weight', 'c.bias'], 'a', { pads: [1, 1, 1, 1] }),
          node('Flatten', ['a'], 'y'),
        ],
      });
      expect(r.layers[0]).toMatchObject({ type: 'conv2d', padding: 3 });
    }
  });

  test('Gemm alpha/beta with transB=0 and a [1, K], scalar or [K] C', () => {
    for (const [dims, n] of [
      [[1, 3], 3],
      [[], 1],
      [[3], 3],
    ] as const) {
      const r = check(
        {
          input: ['N', 4],
          inits: [f32('B', [4, 3], values(12, 2)), f32('C', [...dims], values(n, 4))],
          nodes: [node('Gemm', ['x', 'B', 'C'], 'y', { alpha: float(0.5), beta: float(2) })],
        },
        { inputShape: [4, 1, 1] },
      );
      expect(types(r)).toEqual(['flatten', 'dense']);
    }
  });

  test('MatMul with a constant (here a folded Transpose of one) plus an Add is one dense layer', () => {
    const r = check(
      {
        input: ['N', 6],
        inits: [f32('Wt', [3, 6], values(18, 8)), f32('b', [3], values(3, 9))],
        nodes: [
          node('Transpose', ['Wt'], 'W', { perm: [1, 0] }),
          node('MatMul', ['x', 'W'], 'a'),
          node('Add', ['a', 'b'], 'y'),
        ],
      },
      { inputShape: [6, 1, 1] },
    );
    expect(types(r)).toEqual(['flatten', 'dense']);
    expect(r.layers[1]).toMatchObject({ bias: 'b' });
  });

  test('Sub then Div by per-channel constants at the input merge into one affine; a scalar Mul folds into Conv', () => {
    const r = check({
      input: ['N', 3, 4, 4],
      inits: [
        f32('mean', [1, 3, 1, 1], [0.4, 0.5, 0.6]),
        f32('std', [3, 1, 1], [0.2, 0.25, 0.3]),
        f32('k', [], [3]),
        ...conv('c', 2, 3, 3, 6),
      ],
      nodes: [
        node('Sub', ['x', 'mean'], 'a'),
        node('Div', ['a', 'std'], 'b'),
        node('Conv', ['b', 'c.weight', 'c.bias'], 'c'),
        node('Mul', ['k', 'c'], 'd'),
        node('Flatten', ['d'], 'y'),
      ],
    });
    expect(types(r)).toEqual(['affine', 'conv2d', 'flatten']);
    expect((r.layers[0] as { scale: number[] }).scale.length).toBe(3);
  });

  test('constant − data is an affine with scale −1', () => {
    const r = check({
      input: ['N', 1, 2, 2],
      inits: [f32('one', [1], [1])],
      nodes: [node('Sub', ['one', 'x'], 'a'), node('Flatten', ['a'], 'y')],
    });
    expect(r.layers[0]).toEqual({ type: 'affine', scale: [-1], shift: [1] });
  });

  test('--normalize prepends a per-channel affine', () => {
    const r = check(
      { input: ['N', 2, 2, 2], nodes: [node('Flatten', ['x'], 'y')] },
      { normalize: { mean: [0.5, 0.25], std: [0.5] } },
      (x) => x.map((v, i) => (v - (i % 8 < 4 ? 0.5 : 0.25)) / 0.5),
    );
    expect(r.layers[0]).toEqual({ type: 'affine', scale: [2, 2], shift: [-1, -0.5] });
  });
});

describe('activations', () => {
  test('LeakyRelu, Sigmoid, Tanh', () => {
    const r = check({
      input: ['N', 1, 3, 3],
      inits: [f32('s', [], [4]), f32('o', [], [-2])],
      nodes: [
        node('Mul', ['x', 's'], 'a'),
        node('Add', ['a', 'o'], 'b'),
        node('LeakyRelu', ['b'], 'c', { alpha: float(0.2) }),
        node('Sigmoid', ['c'], 'd'),
        node('Tanh', ['d'], 'e'),
        node('Flatten', ['e'], 'y'),
      ],
    });
    expect(types(r)).toEqual(['affine', 'leaky-relu', 'sigmoid', 'tanh', 'flatten']);
  });

  test('Clip with attributes (opset 9) and with inputs (opset 13); min 0 alone is relu', () => {
    const r9 = check(
      {
        input: ['N', 4],
        opset: 9,
        inits: [f32('s', [], [3])],
        nodes: [
          node('Mul', ['x', 's'], 'a'),
          node('Clip', ['a'], 'b', { min: float(-0.5), max: float(1.5) }),
          node('Clip', ['b'], 'y', { max: float(1) }),
        ],
      },
      { inputShape: [4, 1, 1] },
    );
    expect(r9.layers.slice(2)).toEqual([
      { type: 'clip', min: -0.5, max: 1.5 },
      { type: 'clip', min: null, max: 1 },
    ]);
    const r13 = check(
      {
        input: ['N', 4],
        inits: [f32('s', [], [3]), f32('lo', [], [0]), f32('hi', [], [2]), f32('m', [], [-1])],
        nodes: [
          node('Mul', ['x', 's'], 'a'),
          node('Clip', ['a', 'lo', 'hi'], 'b'),
          node('Clip', ['b', '', 'hi'], 'c'),
          node('Clip', ['c', 'm'], 'd'),
          node('Clip', ['d', 'lo'], 'y'),
        ],
      },
      { inputShape: [4, 1, 1] },
    );
    expect(r13.layers.slice(2)).toEqual([
      { type: 'clip', min: 0, max: 2 },
      { type: 'clip', min: null, max: 2 },
      { type: 'clip', min: -1, max: null },
      { type: 'relu' },
    ]);
  });
});

describe('reshapes, transposes and removed nodes', () => {
  test("Reshape to [0, -1], [-1, 8] and via torch's Shape → Gather → Unsqueeze → Concat chain", () => {
    for (const nodes of [
      [node('Reshape', ['x', 's0'], 'y')],
      [node('Reshape', ['x', 's1'], 'y')],
      [
        node('Shape', ['x'], 'sh'),
        node('Gather', ['sh', 'zero'], 'n', { axis: 0 }),
        node('Unsqueeze', ['n', 'ax'], 'n1'),
        node('Concat', ['n1', 'minus1'], 'target', { axis: 0 }),
        node('Reshape', ['x', 'target'], 'y'),
      ],
    ]) {
      const r = check({
        input: ['N', 2, 2, 2],
        inits: [
          i64('s0', [2], [0, -1]),
          i64('s1', [2], [-1, 8]),
          i64('zero', [], [0]),
          i64('ax', [1], [0]),
          i64('minus1', [1], [-1]),
        ],
        nodes,
      });
      expect(types(r)).toEqual(['flatten']);
    }
  });

  test('Reshape to [1, -1] keeps a fixed batch of 1', () => {
    const r = check({
      input: [1, 2, 2, 2],
      inits: [i64('s', [2], [1, -1])],
      nodes: [node('Reshape', ['x', 's'], 'y')],
    });
    expect(types(r)).toEqual(['flatten']);
  });

  test('a Transpose or Squeeze of size-1 axes moves no data; Dropout and Identity are removed', () => {
    const r = check({
      input: ['N', 3, 4, 4],
      inits: [f32('ratio', [], [0.5]), i64('axes', [2], [2, 3])],
      nodes: [
        node('GlobalAveragePool', ['x'], 'a'),
        node('Transpose', ['a'], 'b', { perm: [0, 2, 3, 1] }),
        node('Dropout', ['b', 'ratio'], 'c'),
        node('Identity', ['c'], 'd'),
        node('Transpose', ['d'], 'e', { perm: [0, 3, 1, 2] }),
        node('Squeeze', ['e', 'axes'], 'y'),
      ],
    });
    expect(types(r)).toEqual(['avgpool2d', 'flatten']);
  });

  test('a Constant node can hold the weights; initializers listed as graph inputs are not data', () => {
    const [w, b] = fc('fc', 2, 4, 3);
    const r = check({
      input: ['N', 1, 2, 2],
      inits: [b],
      extraInputs: [{ name: 'fc.bias', dims: [2] }],
      nodes: [
        node('Constant', [], 'W', { value: w }),
        node('Flatten', ['x'], 'a'),
        node('Gemm', ['a', 'W', 'fc.bias'], 'y', { transB: 1 }),
      ],
    });
    expect(types(r)).toEqual(['flatten', 'dense']);
  });

  test('a trailing Softmax or LogSoftmax is dropped and recorded', () => {
    for (const [op, kind] of [
      ['Softmax', 'softmax'],
      ['LogSoftmax', 'log-softmax'],
    ] as const) {
      const r = check({
        input: ['N', 1, 2, 2],
        inits: fc('fc', 3, 4, 1),
        opset: 11,
        nodes: [
          node('Flatten', ['x'], 'a'),
          node('Gemm', ['a', 'fc.weight', 'fc.bias'], 'b', { transB: 1 }),
          node(op, ['b'], 'y', { axis: 1 }),
        ],
      });
      expect(r.output).toBe(kind);
      expect(types(r)).toEqual(['flatten', 'dense']);
    }
  });
});

describe('external data', () => {
  test("initializers stored outside the file are read through the caller's reader", () => {
    const g = model({
      input: ['N', 1, 2, 2],
      inits: fc('fc', 2, 4, 1),
      nodes: [
        node('Flatten', ['x'], 'a'),
        node('Gemm', ['a', 'fc.weight', 'fc.bias'], 'y', { transB: 1 }),
      ],
    });
    const direct = importOnnx(
      bytesOf({
        input: ['N', 1, 2, 2],
        inits: fc('fc', 2, 4, 1),
        nodes: g.graph.node,
      }),
    );
    // Move both tensors to one external file: weight at offset 0, bias after it.
    const file = new Uint8Array(64);
    const view = new DataView(file.buffer);
    const [w, b] = g.graph.initializer;
    (w.data as Float32Array).forEach((v, i) => view.setFloat32(4 * i, v, true));
    (b.data as Float32Array).forEach((v, i) => view.setFloat32(32 + 4 * i, v, true));
    const bytes = externalModel(g, [
      { location: 'w.bin', offset: 0, length: 32 },
      { location: 'w.bin', offset: 32, length: 8 },
    ]);
    const seen: string[] = [];
    const r = importOnnx(bytes, { externalData: (loc) => (seen.push(loc), file) });
    expect(seen).toEqual(['w.bin']);
    expect([...r.params.get('fc.weight')!.data]).toEqual([...direct.params.get('fc.weight')!.data]);
    expect(() =>
      importOnnx(
        externalModel(g, [
          { location: '../w.bin', offset: 0, length: 32 },
          { location: 'w.bin', offset: 32, length: 8 },
        ]),
        { externalData: () => file },
      ),
    ).toThrow("must be a relative path without '..'");
    expect(() => importOnnx(bytes)).toThrow('no external data reader');
  });
});

/** g with its initializers' data moved to external locations (by rewriting them as protobuf TensorProtos). */
function externalModel(
  g: ReturnType<typeof model>,
  where: { location: string; offset: number; length: number }[],
): Uint8Array {
  // The encoder writes raw_data only, so the external form is spliced in by hand: TensorProto fields dims(1),
  // data_type(2), name(8), external_data(13 {key 1, value 2}), data_location(14) = EXTERNAL.
  const base = encodeOnnxModel({ ...g, graph: { ...g.graph, initializer: [] } });
  const graph = new ProtoWriter();
  g.graph.initializer.forEach((t, i) => {
    const tp = new ProtoWriter().repeatedInts(1, t.dims).int(2, t.dataType).string(8, t.name);
    for (const [k, v] of Object.entries(where[i]))
      tp.message(13, new ProtoWriter().string(1, k).string(2, String(v)));
    graph.message(5, tp.int(14, 1));
  });
  // A second `graph` field merges into the first (protobuf semantics), adding the initializers.
  const extra = new ProtoWriter().message(7, graph).done();
  const out = new Uint8Array(base.length + extra.length);
  out.set(base);
  out.set(extra, base.length);
  return out;
}

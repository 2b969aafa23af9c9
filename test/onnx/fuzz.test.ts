// Hostile bytes: truncations at every byte of a real graph, random byte flips, wrong wire types, lengths past the end,
// dims over 2^31, 2 GB length claims and 10,000-deep nesting. Each case either imports or throws OnnxError (never
// another error type), within a time bound, and memory stays bounded. Seeded (fast-check), so failures replay.
import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { join } from 'node:path';
import { loadModelDir } from '../../src/io/index.ts';
import { Sequential } from '../../src/nn/index.ts';
import { exportOnnx, importOnnx, OnnxError } from '../../src/onnx/index.ts';
import { ProtoWriter } from '../../src/onnx/protobuf-writer.ts';
import { bytesOf, f32, float, i64, node, values } from './onnx-builder.ts';

const MS_PER_CASE = 2000;

/** A torch-like graph touching most of the importer: Pad, Conv, BN, pools, the Shape→Reshape chain, Gemm, LogSoftmax. */
const REAL = bytesOf({
  input: ['N', 1, 8, 8],
  opset: 13,
  inits: [
    i64('pads', [8], [0, 0, 1, 1, 0, 0, 1, 1]),
    f32('c.w', [2, 1, 3, 3], values(18, 1, 0.5)),
    f32('c.b', [2], values(2, 2)),
    f32('bn.s', [2], [1.1, 0.9]),
    f32('bn.b', [2], [0.1, -0.1]),
    f32('bn.m', [2], [0.2, 0.3]),
    f32('bn.v', [2], [1.5, 0.5]),
    i64('zero', [], [0]),
    i64('ax', [1], [0]),
    i64('m1', [1], [-1]),
    f32('fc.w', [3, 32], values(96, 3, 0.2)),
    f32('fc.b', [3], values(3, 4)),
    f32('six', [], [6]),
  ],
  nodes: [
    node('Pad', ['x', 'pads'], 'p'),
    node('Conv', ['p', 'c.w', 'c.b'], 'c', { kernel_shape: [3, 3] }),
    node('BatchNormalization', ['c', 'bn.s', 'bn.b', 'bn.m', 'bn.v'], 'bn', {
      epsilon: float(1e-5),
    }),
    node('Clip', ['bn', '', 'six'], 'r'),
    node('MaxPool', ['r'], 'mp', { kernel_shape: [2, 2], strides: [2, 2] }),
    node('Shape', ['mp'], 'sh'),
    node('Gather', ['sh', 'zero'], 'n', { axis: 0 }),
    node('Unsqueeze', ['n', 'ax'], 'n1'),
    node('Concat', ['n1', 'm1'], 'target', { axis: 0 }),
    node('Reshape', ['mp', 'target'], 'flat'),
    node('Gemm', ['flat', 'fc.w', 'fc.b'], 'z', { transB: 1 }),
    node('LogSoftmax', ['z'], 'y', { axis: 1 }),
  ],
});

/** Imports bytes: 'ok' or 'refused' (OnnxError); any other throw, or a slow case, fails the test. */
function outcome(bytes: Uint8Array): 'ok' | 'refused' {
  const t0 = performance.now();
  try {
    const r = importOnnx(bytes, { externalData: () => new Uint8Array(16) });
    // What imports must also be a model hashguard can build (shapes and tensors agree).
    new Sequential(r.inputShape, r.layers, r.params);
    return 'ok';
  } catch (e) {
    if (!(e instanceof OnnxError))
      throw new Error(`not an OnnxError: ${String(e)}\n${(e as Error).stack}`, { cause: e });
    return 'refused';
  } finally {
    expect(performance.now() - t0).toBeLessThan(MS_PER_CASE);
  }
}

test('the base graph imports', () => {
  const r = importOnnx(REAL);
  expect(r.output).toBe('log-softmax');
  expect(r.layers.map((l) => l.type)).toEqual(['conv2d', 'clip', 'maxpool2d', 'flatten', 'dense']);
});

describe('mutations of a real graph', () => {
  test(`every truncation (${REAL.length} of them)`, () => {
    let ok = 0;
    for (let n = 0; n < REAL.length; n++) if (outcome(REAL.subarray(0, n)) === 'ok') ok++;
    // Cutting inside the last field can still leave a complete model only at field boundaries.
    expect(ok).toBeLessThan(REAL.length / 10);
  });

  test('truncations and flips of an exported committed model (LeNet-5, 250 kB), at 300 seeded places', async () => {
    const { manifest, tensors } = await loadModelDir(
      join(import.meta.dir, '../../models/mnist-lenet5'),
    );
    const big = exportOnnx(manifest.layers, tensors, manifest.input.shape, 10);
    fc.assert(
      fc.property(fc.nat(big.length - 1), fc.integer({ min: 0, max: 255 }), (at, v) => {
        expect(outcome(big.subarray(0, at))).toBe('refused');
        const flipped = big.slice();
        flipped[at] = v;
        outcome(flipped);
      }),
      { numRuns: 300, seed: 3 },
    );
  }, 60_000);

  test('random byte flips (2000 seeded cases)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(REAL.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        (flips) => {
          const b = REAL.slice();
          for (const [at, v] of flips) b[at] = v;
          outcome(b);
        },
      ),
      { numRuns: 2000, seed: 42 },
    );
  }, 60_000);

  test('random fields of any number and wire type spliced in at any byte', () => {
    fc.assert(
      fc.property(
        fc.nat(REAL.length),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 7 }),
        fc.uint8Array({ maxLength: 12 }),
        (at, field, wire, payload) => {
          const key = new ProtoWriter().varint(field * 8 + wire).done();
          outcome(
            Uint8Array.from([...REAL.subarray(0, at), ...key, ...payload, ...REAL.subarray(at)]),
          );
        },
      ),
      { numRuns: 1500, seed: 7 },
    );
  }, 60_000);
});

/** A model whose graph holds `graph` bytes (so hostile content sits at a real field path). */
const modelWithGraph = (graph: Uint8Array) =>
  new ProtoWriter()
    .int(1, 8)
    .message(8, new ProtoWriter().string(1, '').int(2, 13))
    .bytes(7, graph)
    .done();

describe('hostile sizes', () => {
  const rss = () => process.memoryUsage().rss;

  test('2 GB and 2^63 length claims, at every nesting level, allocate nothing', () => {
    const before = rss();
    for (const claim of [2n ** 31n, 2n ** 32n - 1n, 2n ** 63n]) {
      const lie = new ProtoWriter().varint(claim).done();
      const tails = [
        (k: number) => Uint8Array.from([k, ...lie, 1, 2, 3]), // model-level field
        (k: number) => modelWithGraph(Uint8Array.from([k, ...lie, 9])), // graph-level field
        (k: number) =>
          modelWithGraph(new ProtoWriter().bytes(5, Uint8Array.from([k, ...lie, 0])).done()), // tensor
      ];
      for (const tail of tails)
        for (const k of [0x0a, 0x3a, 0x42, 0x4a, 0x2a]) expect(outcome(tail(k))).toBe('refused');
    }
    expect(rss() - before).toBeLessThan(64 * 2 ** 20);
  });

  test('dims over 2^31 and element counts over 2^28 are refused before allocation', () => {
    const before = rss();
    for (const dims of [[2 ** 31 + 1], [2 ** 16, 2 ** 16, 2 ** 16], [2 ** 15, 2 ** 14], [-1]]) {
      const tensor = new ProtoWriter()
        .repeatedInts(1, dims)
        .int(2, 1)
        .string(8, 'w')
        .bytes(9, new Uint8Array(8));
      const msg = (() => {
        try {
          importOnnx(modelWithGraph(new ProtoWriter().message(5, tensor).done()));
        } catch (e) {
          expect(e).toBeInstanceOf(OnnxError);
          return (e as Error).message;
        }
        return '';
      })();
      expect(msg).toMatch(/outside \[0, 2\^31\]|more than 2\^28 elements/);
    }
    // A graph input [N, 2^31, 1, 1] and a huge Pad stay symbolic: refused by the activation limit.
    const big = bytesOf({ input: ['N', 2 ** 31, 2, 1], nodes: [node('Flatten', ['x'], 'y')] });
    expect(() => importOnnx(big)).toThrow(OnnxError);
    expect(rss() - before).toBeLessThan(64 * 2 ** 20);
  });

  test('10,000-deep nested messages are skipped or refused, without recursion', () => {
    // 10,000 levels of `attribute.g` (a sub-graph, unread) and of an unknown field, built inside out in O(n).
    for (const key of [(6 << 3) | 2, (99 << 3) | 2]) {
      const levels = 10_000;
      const parts: Uint8Array[] = [];
      let inner = 0;
      for (let i = 0; i < levels; i++) {
        const prefix = new ProtoWriter().varint(key).varint(inner).done();
        parts.push(prefix);
        inner += prefix.length;
      }
      const nested = new Uint8Array(inner);
      let o = 0;
      // The outermost prefix (pushed last) comes first.
      for (let i = parts.length - 1; i >= 0; i--) {
        nested.set(parts[i], o);
        o += parts[i].length;
      }
      const attr = Uint8Array.from([
        ...new ProtoWriter().string(1, 'deep').int(20, 5).done(),
        ...nested,
      ]);
      const graph = new ProtoWriter().message(
        1,
        new ProtoWriter().string(1, 'x').string(2, 'y').string(4, 'Relu').bytes(5, attr),
      );
      expect(['ok', 'refused']).toContain(outcome(modelWithGraph(graph.done())));
    }
  });
});

describe('hostile values in well-formed graphs', () => {
  const OPS = [
    'Conv',
    'Gemm',
    'MatMul',
    'BatchNormalization',
    'Pad',
    'Add',
    'Sub',
    'Mul',
    'Div',
    'Relu',
    'LeakyRelu',
    'Clip',
    'MaxPool',
    'AveragePool',
    'GlobalAveragePool',
    'Flatten',
    'Reshape',
    'Transpose',
    'Squeeze',
    'Unsqueeze',
    'Dropout',
    'Softmax',
    'Gather',
    'Concat',
    'ConstantOfShape',
  ];
  const int = fc.oneof(
    fc.integer({ min: -3, max: 6 }),
    fc.constantFrom(0, -1, 2 ** 31, 2 ** 40, -(2 ** 53), Number.MAX_SAFE_INTEGER),
  );
  const attr = fc.oneof(int, fc.array(int, { maxLength: 9 }), fc.double().map(float));
  const names = [
    'kernel_shape',
    'strides',
    'pads',
    'dilations',
    'group',
    'axis',
    'perm',
    'alpha',
    'beta',
    'transB',
    'epsilon',
    'axes',
    'ceil_mode',
    'min',
    'max',
    'allowzero',
  ];

  test('random attributes and constant shapes on every mapped op (3000 seeded graphs)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...OPS),
        fc.dictionary(fc.constantFrom(...names), attr, { maxKeys: 4 }),
        fc.array(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 4 }), {
          minLength: 0,
          maxLength: 4,
        }),
        fc.array(int, { maxLength: 8 }),
        fc.constantFrom(9, 11, 13, 18, 21),
        (op, attrs, constDims, ints, opset) => {
          const inits = constDims.map((d, i) =>
            f32(
              `c${i}`,
              d,
              values(
                d.reduce((a, b) => a * b, 1),
                i,
              ),
            ),
          );
          inits.push(i64('k', [ints.length], ints));
          const inputs = ['x', ...inits.map((t) => t.name)].slice(0, 1 + (op === 'Concat' ? 3 : 2));
          const g = bytesOf({
            input: ['N', 2, 4, 4],
            opset,
            inits,
            nodes: [
              node(op, inputs, 'a', attrs as Record<string, number>),
              node('Flatten', ['a'], 'y'),
            ],
          });
          outcome(g);
        },
      ),
      { numRuns: 3000, seed: 11 },
    );
  }, 60_000);
});

// What the importer refuses, and that each refusal is an OnnxError naming the node (index, name, op, opset) and the
// reason: unsupported ops (with the supported list), branches and joins, kernels and layouts hashguard has no layer for.
import { describe, expect, test } from 'bun:test';
import {
  DataType,
  importOnnx,
  OnnxError,
  SUPPORTED_OPS,
  type ImportOptions,
} from '../../src/onnx/index.ts';
import { bytesOf, f32, float, i64, node, values, type GraphSpec } from './onnx-builder.ts';

function refusal(g: GraphSpec, options: ImportOptions = {}): string {
  try {
    importOnnx(bytesOf(g), options);
  } catch (e) {
    expect(e).toBeInstanceOf(OnnxError);
    return (e as Error).message;
  }
  throw new Error('expected the import to be refused');
}

const w = (name: string, dims: number[]) =>
  f32(
    name,
    dims,
    values(
      dims.reduce((a, b) => a * b, 1),
      3,
    ),
  );

describe('unsupported ops', () => {
  test('names the node index and name, its op, the opset and the supported ops', () => {
    const msg = refusal(
      {
        input: ['N', 4],
        inits: [w('W', [4, 3])],
        nodes: [node('MatMul', ['x', 'W'], 'a'), node('Softplus', ['a'], 'y', {}, 'act/softplus')],
      },
      { inputShape: [4, 1, 1] },
    );
    expect(msg).toStartWith("node[1] 'act/softplus' (Softplus, opset 13): unsupported op Softplus");
    expect(msg).toContain(`supported ops: ${SUPPORTED_OPS.join(', ')}`);
    for (const op of ['Conv', 'Gemm', 'BatchNormalization', 'Reshape', 'Softmax'])
      expect(msg).toContain(op);
  });

  test('a node of another domain', () => {
    const n = { ...node('Relu', ['x'], 'y'), domain: 'com.microsoft' };
    expect(refusal({ input: ['N', 1, 2, 2], nodes: [n] })).toContain(
      "unsupported domain 'com.microsoft'",
    );
  });

  test('opsets outside 9 … 21', () => {
    for (const opset of [8, 22])
      expect(refusal({ input: ['N', 1, 2, 2], opset, nodes: [node('Flatten', ['x'], 'y')] })).toBe(
        `opset ${opset} is not supported (opsets 9 to 21 are)`,
      );
  });
});

describe('graph shape', () => {
  test('a branch (one value consumed twice) names the second consumer', () => {
    const msg = refusal({
      input: ['N', 1, 2, 2],
      nodes: [
        node('Relu', ['x'], 'a', {}, 'r'),
        node('Sigmoid', ['a'], 'b'),
        node('Tanh', ['a'], 'c', {}, 't'),
        node('Flatten', ['c'], 'y'),
      ],
    });
    expect(msg).toStartWith(
      "node[2] 't' (Tanh, opset 13): consumes 'a', which node[1] (Sigmoid, opset 13) already consumed",
    );
    expect(msg).toContain('branches');
  });

  test('a join (two data inputs) is refused', () => {
    const msg = refusal({
      input: ['N', 1, 2, 2],
      nodes: [node('Relu', ['x'], 'a'), node('Add', ['a', 'x'], 'y', {}, 'skip')],
    });
    expect(msg).toContain("node[1] 'skip' (Add, opset 13): joins two data paths");
  });

  test('two data inputs, an output that is not the end of the chain, a [N, D] input without a shape', () => {
    expect(
      refusal({
        input: ['N', 1, 2, 2],
        extraInputs: [{ name: 'z', dims: ['N', 1, 2, 2] }],
        nodes: [node('Flatten', ['x'], 'y')],
      }),
    ).toContain('expected one data input, found 2');
    expect(
      refusal({
        input: ['N', 1, 2, 2],
        output: 'a',
        nodes: [node('Flatten', ['x'], 'a'), node('Relu', ['a'], 'y')],
      }),
    ).toContain("graph output 'a' is not the end of the chain ('y')");
    expect(refusal({ input: ['N', 784], nodes: [node('Relu', ['x'], 'y')] })).toContain(
      'give the image shape [C, H, W] it flattens (e.g. --input-shape 1,28,28)',
    );
  });

  test('an output that is not [N, classes]', () => {
    expect(refusal({ input: ['N', 1, 2, 2], nodes: [node('Relu', ['x'], 'y')] })).toContain(
      'a classifier must end in [N, classes]',
    );
  });

  test('Softmax that is not last; the mask output of Dropout used later', () => {
    expect(
      refusal(
        {
          input: ['N', 4],
          nodes: [node('Softmax', ['x'], 'a'), node('Relu', ['a'], 'y', {}, 'late')],
        },
        { inputShape: [4, 1, 1] },
      ),
    ).toContain(
      "node[1] 'late' (Relu, opset 13): follows node[0] (Softmax, opset 13), which must be the last node",
    );
    expect(
      refusal(
        {
          input: ['N', 4],
          inits: [f32('r', [], [0.1])],
          nodes: [node('Dropout', ['x', 'r'], ['a', 'mask']), node('Mul', ['a', 'mask'], 'y')],
        },
        { inputShape: [4, 1, 1] },
      ),
    ).toContain("input 1 'mask' is output mask of node[0] (Dropout, opset 13)");
  });
});

describe('kernels and layouts hashguard has no layer for', () => {
  const convGraph = (dims: number[], attrs: Parameters<typeof node>[3]): GraphSpec => ({
    input: ['N', 2, 6, 6],
    inits: [w('W', dims)],
    nodes: [node('Conv', ['x', 'W'], 'a', attrs, 'conv'), node('Flatten', ['a'], 'y')],
  });

  test('non-square kernel, dilations, group > 1, asymmetric pads', () => {
    expect(refusal(convGraph([3, 2, 3, 2], {}))).toContain(
      "node[0] 'conv' (Conv, opset 13): non-square kernel 3×2 is not supported",
    );
    expect(refusal(convGraph([3, 2, 3, 3], { dilations: [2, 2] }))).toContain(
      'dilations [2, 2] are not supported',
    );
    expect(refusal(convGraph([4, 1, 3, 3], { group: 2 }))).toContain(
      'group=2 (grouped or depthwise convolution) is not supported',
    );
    expect(refusal(convGraph([3, 2, 3, 3], { pads: [0, 0, 1, 1] }))).toContain(
      'pads [0, 0, 1, 1] are not one symmetric value',
    );
  });

  test('a Transpose that moves data (NCHW → NHWC)', () => {
    const msg = refusal({
      input: ['N', 3, 4, 4],
      nodes: [
        node('Transpose', ['x'], 'a', { perm: [0, 2, 3, 1] }, 'nhwc'),
        node('Flatten', ['a'], 'y'),
      ],
    });
    expect(msg).toContain(
      "node[0] 'nhwc' (Transpose, opset 13): perm [0, 2, 3, 1] moves data (e.g. NCHW → NHWC)",
    );
  });

  test('padded pooling, a ceil_mode that changes the size, a Reshape that is not a flatten', () => {
    const pool = (attrs: Parameters<typeof node>[3]): GraphSpec => ({
      input: ['N', 1, 5, 5],
      nodes: [node('MaxPool', ['x'], 'a', attrs), node('Flatten', ['a'], 'y')],
    });
    expect(refusal(pool({ kernel_shape: [2, 2], pads: [1, 1, 1, 1] }))).toContain('padded pooling');
    expect(refusal(pool({ kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }))).toContain(
      'ceil_mode=1 changes the output size',
    );
    expect(
      refusal({
        input: ['N', 2, 3, 3],
        inits: [i64('s', [3], [0, 2, 9])],
        nodes: [node('Reshape', ['x', 's'], 'y')],
      }),
    ).toContain('is not a flatten');
  });

  test('a Pad not followed by a Conv; a non-zero pad value', () => {
    expect(
      refusal({
        input: ['N', 1, 4, 4],
        inits: [i64('p', [8], [0, 0, 1, 1, 0, 0, 1, 1])],
        nodes: [
          node('Pad', ['x', 'p'], 'a'),
          node('Relu', ['a'], 'b', {}, 'r'),
          node('Flatten', ['b'], 'y'),
        ],
      }),
    ).toContain(
      "node[1] 'r' (Relu, opset 13): follows node[0] (Pad, opset 13); a zero Pad folds only into a following Conv",
    );
    expect(
      refusal({
        input: ['N', 1, 4, 4],
        opset: 9,
        nodes: [node('Pad', ['x'], 'a', { pads: [0, 0, 1, 1, 0, 0, 1, 1], value: float(1) })],
      }),
    ).toContain('constant value 1 is not supported');
  });

  test('a Gemm bias per batch row, a constant that varies beyond channels, Div of a constant by the data', () => {
    expect(
      refusal(
        {
          input: [3, 4],
          inits: [w('B', [3, 4]), w('C', [3, 3])],
          nodes: [node('Gemm', ['x', 'B', 'C'], 'y', { transB: 1 })],
        },
        { inputShape: [4, 1, 1] },
      ),
    ).toContain('differs per batch row');
    expect(
      refusal({
        input: ['N', 2, 3, 3],
        inits: [w('k', [3, 3])],
        nodes: [node('Mul', ['x', 'k'], 'a'), node('Flatten', ['a'], 'y')],
      }),
    ).toContain('varies along more than the channel axis');
    expect(
      refusal(
        {
          input: ['N', 4],
          inits: [f32('one', [], [1])],
          nodes: [node('Div', ['one', 'x'], 'y')],
        },
        { inputShape: [4, 1, 1] },
      ),
    ).toContain('constant / data is not an affine map');
  });

  test('a FLOAT16 weight is refused when used, with the reason', () => {
    // The encoder writes raw data only for types it reads, so build the file with a FLOAT weight and patch the type.
    const g: GraphSpec = {
      input: ['N', 4],
      inits: [w('W', [4, 3])],
      nodes: [node('MatMul', ['x', 'W'], 'y')],
    };
    const bytes = bytesOf(g);
    // data_type is field 2 (key 0x10) followed by 1 (FLOAT) right after the dims of the initializer.
    const at = findTensorType(bytes, [4, 3]);
    bytes[at] = DataType.FLOAT16;
    expect(() => importOnnx(bytes, { inputShape: [4, 1, 1] })).toThrow(
      "tensor 'W': data type FLOAT16 is not supported (convert the model to float32)",
    );
  });
});

/** Byte offset of the data_type value of the TensorProto whose dims are `dims` (unpacked dims, then data_type). */
function findTensorType(bytes: Uint8Array, dims: number[]): number {
  const pattern = [...dims.flatMap((d) => [0x08, d]), 0x10, DataType.FLOAT];
  for (let i = 0; i < bytes.length; i++)
    if (pattern.every((b, j) => bytes[i + j] === b)) return i + pattern.length - 1;
  throw new Error('pattern not found');
}

// Test helper: small ONNX graphs written as objects and encoded with hashguard's own writer, so each mapped op can
// be imported from a file built for it (and run by the float64 interpreter in reference-onnx.ts).
import {
  DataType,
  encodeOnnxModel,
  type OnnxAttribute,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
} from '../../src/onnx/index.ts';

export type Attr =
  number | number[] | string | OnnxTensor | { float: number } | { floats: number[] };

/** A node; numeric attributes are ints unless wrapped ({ float: x }), arrays of ints likewise. */
export function node(
  opType: string,
  input: string[],
  output: string | string[],
  attrs: Record<string, Attr> = {},
  name = '',
): OnnxNode {
  const attribute: OnnxAttribute[] = Object.entries(attrs).map(([n, v]) => {
    if (typeof v === 'number') return { name: n, type: 2, i: v };
    if (typeof v === 'string') return { name: n, type: 3, s: new TextEncoder().encode(v) };
    if (Array.isArray(v)) return { name: n, type: 7, ints: v };
    if ('float' in v) return { name: n, type: 1, f: v.float };
    if ('floats' in v) return { name: n, type: 6, floats: v.floats };
    return { name: n, type: 4, t: v };
  });
  return {
    name,
    opType,
    domain: '',
    input,
    output: Array.isArray(output) ? output : [output],
    attribute,
  };
}

export const float = (x: number) => ({ float: x });

export function f32(name: string, dims: number[], values: ArrayLike<number>): OnnxTensor {
  return { name, dims, dataType: DataType.FLOAT, data: Float32Array.from(values) };
}

export function i64(name: string, dims: number[], values: number[]): OnnxTensor {
  return {
    name,
    dims,
    dataType: DataType.INT64,
    data: BigInt64Array.from(values.map((v) => BigInt(v))),
  };
}

/** Deterministic pseudo-random values in [-1, 1) (an LCG: enough for test weights). */
export function values(n: number, seed: number, scale = 1): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ((s / 2 ** 32) * 2 - 1) * scale;
  });
}

export interface GraphSpec {
  nodes: OnnxNode[];
  inits?: OnnxTensor[];
  /** Data input dims, e.g. ['N', 1, 6, 6]. */
  input: (number | string)[];
  inputName?: string;
  output?: string;
  opset?: number;
  /** Extra graph inputs (initializers listed as inputs, or a second data input). */
  extraInputs?: { name: string; dims: (number | string)[] }[];
}

export function model(g: GraphSpec): OnnxModel {
  const out = g.output ?? g.nodes[g.nodes.length - 1].output[0];
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: g.opset ?? 13 }],
    producerName: 'test',
    producerVersion: '1',
    graph: {
      name: 'g',
      node: g.nodes,
      initializer: g.inits ?? [],
      input: [
        { name: g.inputName ?? 'x', elemType: DataType.FLOAT, dims: g.input },
        ...(g.extraInputs ?? []).map((e) => ({
          name: e.name,
          elemType: DataType.FLOAT,
          dims: e.dims,
        })),
      ],
      output: [{ name: out, elemType: DataType.FLOAT, dims: null }],
      sparseInitializer: [],
    },
  };
}

export function bytesOf(g: GraphSpec): Uint8Array {
  return encodeOnnxModel(model(g));
}

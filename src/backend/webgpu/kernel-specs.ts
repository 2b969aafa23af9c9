// The host-side description of each WGSL kernel, as data: params (binding 0), inputs, outputs, dispatch rule.
// A kernel's id is its file stem in shaders/; bind-group layout and params packing are derived from these.

export type ScalarType = 'u32' | 'f32';

/** Values of a kernel's params uniform, by WGSL struct field name. */
export type KernelParams = Record<string, number>;

export interface KernelArray {
  name: string;
  type: ScalarType;
  /** Element count this kernel reads or writes for the given params. */
  length: (p: KernelParams) => number;
}

export interface KernelSpec {
  /** File stem: shaders/<id>.wgsl. */
  id: string;
  /** Fields of the params uniform at binding 0, in WGSL struct order (scalars only: 4 bytes each). */
  params: readonly { name: string; type: ScalarType }[];
  /** Read-only storage arrays, bindings 1..n in order. */
  inputs: readonly KernelArray[];
  /** Read-write storage arrays, after the inputs. */
  outputs: readonly KernelArray[];
  /** Dispatch rule: how many invocations (one per output element here); the grid is derived from it. */
  invocations: (p: KernelParams) => number;
  /** Default value of the WGSL `override WG` workgroup size. */
  workgroupSize: number;
}

const u32 = (name: string) => ({ name, type: 'u32' as const });
const arr = (name: string, type: ScalarType, length: (p: KernelParams) => number): KernelArray => ({ name, type, length });

/** Every kernel in shaders/ (not lib/), by id. */
export const kernelSpecs: Record<string, KernelSpec> = {
  'hash-table': {
    id: 'hash-table',
    params: [u32('rows'), u32('cols'), u32('seed'), u32('buckets')],
    inputs: [],
    outputs: [arr('bucket', 'u32', (p) => p.rows * p.cols), arr('sign', 'f32', (p) => p.rows * p.cols)],
    invocations: (p) => p.rows * p.cols,
    workgroupSize: 64,
  },
  'rng-fill': {
    id: 'rng-fill',
    params: [u32('count'), u32('stream')],
    inputs: [],
    outputs: [arr('bits', 'u32', (p) => p.count), arr('uniforms', 'f32', (p) => p.count), arr('normals', 'f32', (p) => p.count)],
    invocations: (p) => p.count,
    workgroupSize: 64,
  },
  relu: {
    id: 'relu',
    params: [u32('size')],
    inputs: [arr('x', 'f32', (p) => p.size)],
    outputs: [arr('y', 'f32', (p) => p.size)],
    invocations: (p) => p.size,
    workgroupSize: 64,
  },
  'bias-add': {
    id: 'bias-add',
    params: [u32('size'), u32('channels'), u32('spatial')],
    inputs: [arr('x', 'f32', (p) => p.size), arr('bias', 'f32', (p) => p.channels)],
    outputs: [arr('y', 'f32', (p) => p.size)],
    invocations: (p) => p.size,
    workgroupSize: 64,
  },
  dense: {
    id: 'dense',
    params: [u32('batch'), u32('inDim'), u32('outDim')],
    inputs: [arr('x', 'f32', (p) => p.batch * p.inDim), arr('weight', 'f32', (p) => p.outDim * p.inDim), arr('bias', 'f32', (p) => p.outDim)],
    outputs: [arr('y', 'f32', (p) => p.batch * p.outDim)],
    invocations: (p) => p.batch * p.outDim,
    workgroupSize: 64,
  },
  'hashed-dense': {
    id: 'hashed-dense',
    params: [u32('batch'), u32('inDim'), u32('outDim'), u32('buckets'), u32('seed')],
    inputs: [arr('x', 'f32', (p) => p.batch * p.inDim), arr('weight', 'f32', (p) => p.buckets), arr('bias', 'f32', (p) => p.outDim)],
    outputs: [arr('y', 'f32', (p) => p.batch * p.outDim)],
    invocations: (p) => p.batch * p.outDim,
    workgroupSize: 64,
  },
};

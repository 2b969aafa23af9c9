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
const f32 = (name: string) => ({ name, type: 'f32' as const });
const arr = (name: string, type: ScalarType, length: (p: KernelParams) => number): KernelArray => ({ name, type, length });

/**
 * Output size of a window sweep, ⌊(inSize + 2·padding − kernelSize) / stride⌋ + 1, as the shaders compute it in u32.
 * Throws where the window does not fit (the shader's unsigned arithmetic would wrap) or stride is 0.
 */
export function windowOutSize(inSize: number, kernelSize: number, stride: number, padding: number): number {
  if (!(stride >= 1) || !(kernelSize >= 1)) throw new Error(`window: invalid kernelSize ${kernelSize} or stride ${stride}`);
  if (inSize + 2 * padding < kernelSize) throw new Error(`window: ${kernelSize} (padding ${padding}) does not fit input size ${inSize}`);
  return Math.floor((inSize + 2 * padding - kernelSize) / stride) + 1;
}

// Conv geometry (NCHW, square kernel): params shared by every conv kernel, and its derived sizes.
const convParams = ['batch', 'inChannels', 'height', 'width', 'outChannels', 'kernelSize', 'stride', 'padding'].map(u32);
const hashedConvParams = [...convParams, u32('buckets'), u32('seed')];
const convIn = (p: KernelParams) => p.batch * p.inChannels * p.height * p.width;
const convOut = (p: KernelParams) =>
  p.batch * p.outChannels * windowOutSize(p.height, p.kernelSize, p.stride, p.padding) * windowOutSize(p.width, p.kernelSize, p.stride, p.padding);
const convWeight = (p: KernelParams) => p.outChannels * p.inChannels * p.kernelSize * p.kernelSize;
// Pool geometry (NCHW, square window, no padding).
const poolParams = ['batch', 'channels', 'height', 'width', 'kernelSize', 'stride'].map(u32);
const poolIn = (p: KernelParams) => p.batch * p.channels * p.height * p.width;
const poolOut = (p: KernelParams) =>
  p.batch * p.channels * windowOutSize(p.height, p.kernelSize, p.stride, 0) * windowOutSize(p.width, p.kernelSize, p.stride, 0);
const denseParams = ['batch', 'inDim', 'outDim'].map(u32);
const hashedDenseParams = [...denseParams, u32('buckets'), u32('seed')];

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
    params: denseParams,
    inputs: [arr('x', 'f32', (p) => p.batch * p.inDim), arr('weight', 'f32', (p) => p.outDim * p.inDim), arr('bias', 'f32', (p) => p.outDim)],
    outputs: [arr('y', 'f32', (p) => p.batch * p.outDim)],
    invocations: (p) => p.batch * p.outDim,
    workgroupSize: 64,
  },
  'hashed-dense': {
    id: 'hashed-dense',
    params: hashedDenseParams,
    inputs: [arr('x', 'f32', (p) => p.batch * p.inDim), arr('weight', 'f32', (p) => p.buckets), arr('bias', 'f32', (p) => p.outDim)],
    outputs: [arr('y', 'f32', (p) => p.batch * p.outDim)],
    invocations: (p) => p.batch * p.outDim,
    workgroupSize: 64,
  },
  conv2d: {
    id: 'conv2d',
    params: convParams,
    inputs: [arr('x', 'f32', convIn), arr('weight', 'f32', convWeight), arr('bias', 'f32', (p) => p.outChannels)],
    outputs: [arr('y', 'f32', convOut)],
    invocations: convOut,
    workgroupSize: 64,
  },
  'hashed-conv2d': {
    id: 'hashed-conv2d',
    params: hashedConvParams,
    inputs: [arr('x', 'f32', convIn), arr('weight', 'f32', (p) => p.buckets), arr('bias', 'f32', (p) => p.outChannels)],
    outputs: [arr('y', 'f32', convOut)],
    invocations: convOut,
    workgroupSize: 64,
  },
  'max-pool2d': {
    id: 'max-pool2d',
    params: poolParams,
    inputs: [arr('x', 'f32', poolIn)],
    outputs: [arr('y', 'f32', poolOut), arr('argmax', 'u32', poolOut)],
    invocations: poolOut,
    workgroupSize: 64,
  },
  softmax: {
    id: 'softmax',
    params: [u32('rows'), u32('cols')],
    inputs: [arr('x', 'f32', (p) => p.rows * p.cols)],
    outputs: [arr('y', 'f32', (p) => p.rows * p.cols)],
    invocations: (p) => p.rows,
    workgroupSize: 64,
  },
  'log-softmax': {
    id: 'log-softmax',
    params: [u32('rows'), u32('cols')],
    inputs: [arr('x', 'f32', (p) => p.rows * p.cols)],
    outputs: [arr('y', 'f32', (p) => p.rows * p.cols)],
    invocations: (p) => p.rows,
    workgroupSize: 64,
  },

  // Backward kernels: the gradient with respect to an input (-grad-input) or to the weights and bias (-grad-weight).
  'relu-grad-input': {
    id: 'relu-grad-input',
    params: [u32('size')],
    inputs: [arr('x', 'f32', (p) => p.size), arr('dy', 'f32', (p) => p.size)],
    outputs: [arr('dx', 'f32', (p) => p.size)],
    invocations: (p) => p.size,
    workgroupSize: 64,
  },
  'max-pool2d-grad-input': {
    id: 'max-pool2d-grad-input',
    params: poolParams,
    inputs: [arr('dy', 'f32', poolOut), arr('argmax', 'u32', poolOut)],
    outputs: [arr('dx', 'f32', poolIn)],
    invocations: poolIn,
    workgroupSize: 64,
  },
  'dense-grad-input': {
    id: 'dense-grad-input',
    params: denseParams,
    inputs: [arr('dy', 'f32', (p) => p.batch * p.outDim), arr('weight', 'f32', (p) => p.outDim * p.inDim)],
    outputs: [arr('dx', 'f32', (p) => p.batch * p.inDim)],
    invocations: (p) => p.batch * p.inDim,
    workgroupSize: 64,
  },
  'dense-grad-weight': {
    id: 'dense-grad-weight',
    params: denseParams,
    inputs: [arr('x', 'f32', (p) => p.batch * p.inDim), arr('dy', 'f32', (p) => p.batch * p.outDim)],
    outputs: [arr('dweight', 'f32', (p) => p.outDim * p.inDim), arr('dbias', 'f32', (p) => p.outDim)],
    invocations: (p) => p.outDim * p.inDim,
    workgroupSize: 64,
  },
  'hashed-dense-grad-input': {
    id: 'hashed-dense-grad-input',
    params: hashedDenseParams,
    inputs: [arr('dy', 'f32', (p) => p.batch * p.outDim), arr('weight', 'f32', (p) => p.buckets)],
    outputs: [arr('dx', 'f32', (p) => p.batch * p.inDim)],
    invocations: (p) => p.batch * p.inDim,
    workgroupSize: 64,
  },
  'hashed-dense-grad-weight': {
    id: 'hashed-dense-grad-weight',
    params: hashedDenseParams,
    inputs: [
      arr('x', 'f32', (p) => p.batch * p.inDim),
      arr('dy', 'f32', (p) => p.batch * p.outDim),
      // The bucket → entries CSR of bucket-entries.ts.
      arr('offsets', 'u32', (p) => p.buckets + 1),
      arr('entries', 'u32', (p) => p.outDim * p.inDim),
    ],
    outputs: [arr('dweight', 'f32', (p) => p.buckets), arr('dbias', 'f32', (p) => p.outDim)],
    invocations: (p) => Math.max(p.buckets, p.outDim),
    workgroupSize: 64,
  },
  'conv2d-grad-input': {
    id: 'conv2d-grad-input',
    params: convParams,
    inputs: [arr('dy', 'f32', convOut), arr('weight', 'f32', convWeight)],
    outputs: [arr('dx', 'f32', convIn)],
    invocations: convIn,
    workgroupSize: 64,
  },
  'conv2d-grad-weight': {
    id: 'conv2d-grad-weight',
    params: convParams,
    inputs: [arr('x', 'f32', convIn), arr('dy', 'f32', convOut)],
    outputs: [arr('dweight', 'f32', convWeight), arr('dbias', 'f32', (p) => p.outChannels)],
    invocations: convWeight,
    workgroupSize: 64,
  },
  'hashed-conv2d-grad-input': {
    id: 'hashed-conv2d-grad-input',
    params: hashedConvParams,
    inputs: [arr('dy', 'f32', convOut), arr('weight', 'f32', (p) => p.buckets)],
    outputs: [arr('dx', 'f32', convIn)],
    invocations: convIn,
    workgroupSize: 64,
  },
  'hashed-conv2d-grad-weight': {
    id: 'hashed-conv2d-grad-weight',
    params: hashedConvParams,
    inputs: [
      arr('x', 'f32', convIn),
      arr('dy', 'f32', convOut),
      arr('offsets', 'u32', (p) => p.buckets + 1),
      arr('entries', 'u32', convWeight),
    ],
    outputs: [arr('dweight', 'f32', (p) => p.buckets), arr('dbias', 'f32', (p) => p.outChannels)],
    invocations: (p) => Math.max(p.buckets, p.outChannels),
    workgroupSize: 64,
  },

  // Randomized gradient inhibition (src/defense/gradient-inhibition.ts), drawn in the shader from a request seed.
  'gi-random-scale': {
    id: 'gi-random-scale',
    params: [u32('batch'), u32('outDim'), u32('requestSeed'), f32('alphaMin'), f32('alphaMax')],
    inputs: [arr('z', 'f32', (p) => p.batch * p.outDim)],
    outputs: [arr('y', 'f32', (p) => p.batch * p.outDim), arr('scales', 'f32', (p) => p.batch)],
    invocations: (p) => p.batch * p.outDim,
    workgroupSize: 64,
  },
  'gi-random-noise': {
    id: 'gi-random-noise',
    params: [u32('size'), u32('requestSeed'), f32('noise')],
    inputs: [arr('weight', 'f32', (p) => p.size)],
    outputs: [arr('y', 'f32', (p) => p.size)],
    invocations: (p) => p.size,
    workgroupSize: 64,
  },
};

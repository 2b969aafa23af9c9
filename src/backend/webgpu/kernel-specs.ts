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
const arr = (name: string, type: ScalarType, length: (p: KernelParams) => number): KernelArray => ({
  name,
  type,
  length,
});

/**
 * Output size of a window sweep, ⌊(inSize + 2·padding − kernelSize) / stride⌋ + 1, as the shaders compute it in u32.
 * Throws where the window does not fit (the shader's unsigned arithmetic would wrap) or stride is 0.
 */
export function windowOutSize(
  inSize: number,
  kernelSize: number,
  stride: number,
  padding: number,
): number {
  if (!(stride >= 1) || !(kernelSize >= 1))
    throw new Error(`window: invalid kernelSize ${kernelSize} or stride ${stride}`);
  if (inSize + 2 * padding < kernelSize)
    throw new Error(`window: ${kernelSize} (padding ${padding}) does not fit input size ${inSize}`);
  return Math.floor((inSize + 2 * padding - kernelSize) / stride) + 1;
}

// Conv geometry (NCHW, square kernel) and dense shapes: the params every kernel of the layer shares.
const convParams = [
  'batch',
  'inChannels',
  'height',
  'width',
  'outChannels',
  'kernelSize',
  'stride',
  'padding',
].map(u32);
const denseParams = ['batch', 'inDim', 'outDim'].map(u32);
// Pool geometry (NCHW, square window, no padding).
const poolParams = ['batch', 'channels', 'height', 'width', 'kernelSize', 'stride'].map(u32);
const poolIn = (p: KernelParams) => p.batch * p.channels * p.height * p.width;
const poolOut = (p: KernelParams) =>
  p.batch *
  p.channels *
  windowOutSize(p.height, p.kernelSize, p.stride, 0) *
  windowOutSize(p.width, p.kernelSize, p.stride, 0);

/** One kernel's spec; every kernel here runs 64-wide workgroups (the WGSL `override WG` default). */
const spec = (
  id: string,
  params: KernelSpec['params'],
  inputs: KernelArray[],
  outputs: KernelArray[],
  invocations: KernelSpec['invocations'],
): KernelSpec => ({ id, params, inputs, outputs, invocations, workgroupSize: 64 });

type Length = (p: KernelParams) => number;

/**
 * The six kernels of a weighted layer (dense, conv2d): forward, -grad-input and -grad-weight, each plain and
 * hashed. They differ only in their params and in the lengths of x, y and the (virtual) weight; the bias has
 * `bias` elements, and a hashed layer's real weights are its `buckets` and its params add buckets and seed.
 */
function weightedSpecs(
  id: string,
  params: KernelSpec['params'],
  x: Length,
  y: Length,
  weight: Length,
  bias: Length,
): KernelSpec[] {
  const hashed = [...params, u32('buckets'), u32('seed')];
  const buckets = (p: KernelParams) => p.buckets;
  return [
    spec(
      id,
      params,
      [arr('x', 'f32', x), arr('weight', 'f32', weight), arr('bias', 'f32', bias)],
      [arr('y', 'f32', y)],
      y,
    ),
    spec(
      `hashed-${id}`,
      hashed,
      [arr('x', 'f32', x), arr('weight', 'f32', buckets), arr('bias', 'f32', bias)],
      [arr('y', 'f32', y)],
      y,
    ),
    // Backward: the gradient with respect to the input (-grad-input) or to the weights and bias (-grad-weight).
    spec(
      `${id}-grad-input`,
      params,
      [arr('dy', 'f32', y), arr('weight', 'f32', weight)],
      [arr('dx', 'f32', x)],
      x,
    ),
    spec(
      `${id}-grad-weight`,
      params,
      [arr('x', 'f32', x), arr('dy', 'f32', y)],
      [arr('dweight', 'f32', weight), arr('dbias', 'f32', bias)],
      weight,
    ),
    spec(
      `hashed-${id}-grad-input`,
      hashed,
      [arr('dy', 'f32', y), arr('weight', 'f32', buckets)],
      [arr('dx', 'f32', x)],
      x,
    ),
    spec(
      `hashed-${id}-grad-weight`,
      hashed,
      [
        arr('x', 'f32', x),
        arr('dy', 'f32', y),
        // The bucket → entries CSR of bucket-entries.ts.
        arr('offsets', 'u32', (p) => p.buckets + 1),
        arr('entries', 'u32', weight),
      ],
      [arr('dweight', 'f32', buckets), arr('dbias', 'f32', bias)],
      (p) => Math.max(p.buckets, bias(p)),
    ),
  ];
}

/** Every kernel in shaders/ (not lib/), by id. */
export const kernelSpecs: Record<string, KernelSpec> = Object.fromEntries(
  [
    spec(
      'hash-table',
      [u32('rows'), u32('cols'), u32('seed'), u32('buckets')],
      [],
      [arr('bucket', 'u32', (p) => p.rows * p.cols), arr('sign', 'f32', (p) => p.rows * p.cols)],
      (p) => p.rows * p.cols,
    ),
    spec(
      'rng-fill',
      [u32('count'), u32('stream')],
      [],
      [
        arr('bits', 'u32', (p) => p.count),
        arr('uniforms', 'f32', (p) => p.count),
        arr('normals', 'f32', (p) => p.count),
      ],
      (p) => p.count,
    ),
    spec(
      'relu',
      [u32('size')],
      [arr('x', 'f32', (p) => p.size)],
      [arr('y', 'f32', (p) => p.size)],
      (p) => p.size,
    ),
    spec(
      'bias-add',
      [u32('size'), u32('channels'), u32('spatial')],
      [arr('x', 'f32', (p) => p.size), arr('bias', 'f32', (p) => p.channels)],
      [arr('y', 'f32', (p) => p.size)],
      (p) => p.size,
    ),
    ...weightedSpecs(
      'dense',
      denseParams,
      (p) => p.batch * p.inDim,
      (p) => p.batch * p.outDim,
      (p) => p.outDim * p.inDim,
      (p) => p.outDim,
    ),
    ...weightedSpecs(
      'conv2d',
      convParams,
      (p) => p.batch * p.inChannels * p.height * p.width,
      (p) =>
        p.batch *
        p.outChannels *
        windowOutSize(p.height, p.kernelSize, p.stride, p.padding) *
        windowOutSize(p.width, p.kernelSize, p.stride, p.padding),
      (p) => p.outChannels * p.inChannels * p.kernelSize * p.kernelSize,
      (p) => p.outChannels,
    ),
    spec(
      'max-pool2d',
      poolParams,
      [arr('x', 'f32', poolIn)],
      [arr('y', 'f32', poolOut), arr('argmax', 'u32', poolOut)],
      poolOut,
    ),
    // Row-wise normalizations of [rows × cols] logits: one invocation per row.
    ...['softmax', 'log-softmax'].map((id) =>
      spec(
        id,
        [u32('rows'), u32('cols')],
        [arr('x', 'f32', (p) => p.rows * p.cols)],
        [arr('y', 'f32', (p) => p.rows * p.cols)],
        (p) => p.rows,
      ),
    ),

    // Backward kernels: the gradient with respect to an input.
    spec(
      'relu-grad-input',
      [u32('size')],
      [arr('x', 'f32', (p) => p.size), arr('dy', 'f32', (p) => p.size)],
      [arr('dx', 'f32', (p) => p.size)],
      (p) => p.size,
    ),
    spec(
      'max-pool2d-grad-input',
      poolParams,
      [arr('dy', 'f32', poolOut), arr('argmax', 'u32', poolOut)],
      [arr('dx', 'f32', poolIn)],
      poolIn,
    ),

    // Randomized gradient inhibition (src/defense/gradient-inhibition.ts), drawn in the shader from a request seed.
    spec(
      'gi-random-scale',
      [u32('batch'), u32('outDim'), u32('requestSeed'), f32('alphaMin'), f32('alphaMax')],
      [arr('z', 'f32', (p) => p.batch * p.outDim)],
      [arr('y', 'f32', (p) => p.batch * p.outDim), arr('scales', 'f32', (p) => p.batch)],
      (p) => p.batch * p.outDim,
    ),
    spec(
      'gi-random-noise',
      [u32('size'), u32('requestSeed'), f32('noise')],
      [arr('weight', 'f32', (p) => p.size)],
      [arr('y', 'f32', (p) => p.size)],
      (p) => p.size,
    ),
  ].map((k) => [k.id, k]),
);

// The parity table: every kernel id with its seeded cases and, per engine, how to run it. The reference CPU
// kernels are the oracle; the WASM primitives, the WASM chain and the WebGPU kernels run the same id where
// they have it. test/backend/parity.test.ts walks the table on every engine present.
import { referenceBackend as ref } from '../../src/backend/cpu/index.ts';
import { createWasmBackend } from '../../src/backend/wasm/index.ts';
import { bucketEntries } from '../../src/backend/webgpu/bucket-entries.ts';
import type { KernelParams } from '../../src/backend/webgpu/kernel-specs.ts';
import type { KernelArrayData } from '../../src/backend/webgpu/run-kernel.ts';
import { hashTable } from '../../src/hash/index.ts';
import type { LayerSpec } from '../../src/nn/index.ts';
import { chainLayers } from '../../src/nn/chain-runner.ts';
import { type Backend, type ChainGradients, Tensor } from '../../src/tensor/index.ts';
import { randomTensor } from '../helpers/random.ts';

export type Engine = 'wasm' | 'wasm-chain' | 'webgpu';
export type Outputs = Record<string, ArrayLike<number>>;
/** Runs kernel `id` on the WebGPU device (test/helpers/webgpu-parity.ts kernelRunner). */
export type GpuRun = (
  id: string,
  params: KernelParams,
  inputs?: Record<string, KernelArrayData>,
) => Promise<Record<string, ArrayLike<number>>>;

/** One seeded case: named tensors and the geometry the kernel takes. */
export interface Case {
  label: string;
  t: Record<string, Tensor>;
  g: Record<string, number>;
}

export interface KernelEntry {
  /** The kernel id: the name of its reference file, WASM export, .wgsl file and test entry. */
  id: string;
  /**
   * How outputs are compared: bit for bit; equal values (bit for bit but +0 = -0); norm-wise within the
   * tolerance; or per element (softmax).
   */
  compare: 'exact' | 'value' | 'norm' | 'each';
  cases: () => Case[];
  /** The oracle. */
  cpu: (c: Case) => Outputs;
  engines: Partial<{
    wasm: (c: Case) => Outputs;
    'wasm-chain': (c: Case) => Outputs;
    webgpu: (c: Case, run: GpuRun) => Promise<Outputs>;
  }>;
}

const wasm: Backend | null = createWasmBackend();
export const wasmAvailable = wasm !== null;
const r = (shape: number[]) => randomTensor(shape, -1, 1, 'f32');
const f32 = (t: Tensor) => Float32Array.from(t.data);
const data = (t: Tensor | null | undefined) => f32(t!);

/** Quantized values: ties inside pooling windows are common, so the first-maximum rule is exercised. */
function coarse(shape: number[]): Tensor {
  const t = r(shape);
  for (let i = 0; i < t.size; i++) t.data[i] = Math.round(t.data[i] * 2) / 2;
  return t;
}

/**
 * Runs one layer on the WASM chain: forward, then backward of dy for dL/dx and the parameter gradients.
 * The chain is what models run on the WASM engine (hashed expansion and scatter included).
 */
function onChain(
  layers: LayerSpec[],
  params: Map<string, Tensor>,
  inputShape: number[],
  x: Tensor,
  dy: Tensor | null,
): { y: Tensor; back: ChainGradients | null } {
  const chain = wasm!.compileChain!(chainLayers(layers)!, params, inputShape);
  if (!chain) throw new Error(`the wasm chain declined ${layers.map((l) => l.type).join(', ')}`);
  try {
    const y = chain.forward(x, dy ? 'params' : false);
    return { y, back: dy ? chain.backward(dy, { input: true, params: true }) : null };
  } finally {
    chain.dispose();
  }
}

// ---- geometry helpers ----

const DENSE = [
  [1, 1, 1],
  [3, 5, 7],
  [4, 33, 10],
  [17, 64, 9],
  [2, 784, 30],
]; // batch, inDim, outDim
const denseCase = ([batch, inDim, outDim]: number[], buckets = 0): Case => ({
  label: `${batch}×${inDim}→${outDim}${buckets ? ` K=${buckets}` : ''}`,
  t: {
    x: r([batch, inDim]),
    w: r(buckets ? [buckets] : [outDim, inDim]),
    b: r([outDim]),
    dy: r([batch, outDim]),
  },
  g: { batch, inDim, outDim, buckets, seed: 0x2545f491 },
});
const hashedDenseCases = () =>
  DENSE.map((d) => denseCase(d, Math.max(1, Math.ceil((d[1] * d[2]) / 8))));

/** [batch, inChannels, height, width, outChannels, kernelSize, stride, padding]: odd sizes, strides, wide padding. */
const CONV = [
  [2, 3, 8, 8, 4, 3, 1, 1],
  [2, 2, 7, 9, 3, 3, 2, 1],
  [1, 3, 6, 6, 2, 2, 2, 0],
  [1, 2, 4, 5, 2, 3, 3, 2],
  [3, 1, 28, 28, 6, 5, 1, 0],
  [2, 1, 12, 12, 6, 5, 1, 2],
  [2, 4, 14, 14, 3, 4, 2, 1], // mnist-cnn's second layer, narrowed: 4×4 windows, stride 2
  [1, 2, 3, 3, 2, 4, 2, 2], // windows wider than the image, hanging over both edges
];
function convCase(
  [batch, inChannels, height, width, outChannels, kernelSize, stride, padding]: number[],
  hashed: boolean,
): Case {
  const oh = Math.floor((height + 2 * padding - kernelSize) / stride) + 1,
    ow = Math.floor((width + 2 * padding - kernelSize) / stride) + 1;
  const size = outChannels * inChannels * kernelSize * kernelSize,
    buckets = hashed ? Math.max(1, Math.ceil(size / 8)) : 0;
  return {
    label: `${batch}×${inChannels}×${height}×${width} → ${outChannels}, k${kernelSize} s${stride} p${padding}${hashed ? ` K=${buckets}` : ''}`,
    t: {
      x: r([batch, inChannels, height, width]),
      w: r(hashed ? [buckets] : [outChannels, inChannels, kernelSize, kernelSize]),
      b: r([outChannels]),
      dy: r([batch, outChannels, oh, ow]),
    },
    g: {
      batch,
      inChannels,
      height,
      width,
      outChannels,
      kernelSize,
      stride,
      padding,
      buckets,
      seed: 0xdeadbeef,
    },
  };
}
const convCases = (hashed: boolean) => () => CONV.map((c) => convCase(c, hashed));
const convP = (c: Case) => ({ stride: c.g.stride, padding: c.g.padding });
const convWeightShape = (c: Case) => [
  c.g.outChannels,
  c.g.inChannels,
  c.g.kernelSize,
  c.g.kernelSize,
];
const gpuConv = (c: Case) => {
  const { buckets, seed, ...p } = c.g;
  return c.g.buckets ? c.g : p;
};
const gpuDense = (c: Case) => {
  const { buckets, seed, ...p } = c.g;
  return c.g.buckets ? c.g : p;
};
const denseTable = (c: Case) => hashTable(c.g.outDim, c.g.inDim, c.g.seed, c.g.buckets);
const convTable = (c: Case) =>
  hashTable(c.g.outChannels, c.g.inChannels * c.g.kernelSize ** 2, c.g.seed, c.g.buckets);

const denseLayer = (c: Case, hashed: boolean): LayerSpec[] => [
  { type: 'flatten' },
  hashed
    ? {
        type: 'hashed-dense',
        inDim: c.g.inDim,
        outDim: c.g.outDim,
        weight: 'w',
        bias: 'b',
        hash: { buckets: c.g.buckets, seed: c.g.seed },
      }
    : { type: 'dense', inDim: c.g.inDim, outDim: c.g.outDim, weight: 'w', bias: 'b' },
];
const convLayer = (c: Case, hashed: boolean): LayerSpec[] => {
  const { inChannels, outChannels, kernelSize, stride, padding } = c.g;
  return [
    hashed
      ? {
          type: 'hashed-conv2d',
          inChannels,
          outChannels,
          kernelSize,
          stride,
          padding,
          weight: 'w',
          bias: 'b',
          hash: { buckets: c.g.buckets, seed: c.g.seed },
        }
      : {
          type: 'conv2d',
          inChannels,
          outChannels,
          kernelSize,
          stride,
          padding,
          weight: 'w',
          bias: 'b',
        },
  ];
};
const wb = (c: Case) =>
  new Map([
    ['w', c.t.w],
    ['b', c.t.b],
  ]);
const denseOnChain = (c: Case, hashed: boolean) =>
  onChain(
    denseLayer(c, hashed),
    wb(c),
    [c.g.inDim, 1, 1],
    c.t.x.reshape([c.g.batch, c.g.inDim, 1, 1]),
    c.t.dy,
  );
const convOnChain = (c: Case, hashed: boolean) =>
  onChain(convLayer(c, hashed), wb(c), [c.g.inChannels, c.g.height, c.g.width], c.t.x, c.t.dy);

/** The reference composition of a (hashed) dense or conv2d layer's forward and backward. */
function refDense(c: Case, hashed: boolean) {
  const w = hashed ? ref.hashGather(c.t.w, denseTable(c)) : c.t.w;
  const dw = ref.matmul(c.t.dy, c.t.x, true, false);
  return {
    y: ref.biasAdd(ref.matmul(c.t.x, w, false, true), c.t.b),
    dx: ref.matmul(c.t.dy, w),
    dw: hashed ? ref.hashScatter(dw, denseTable(c)) : dw,
    db: ref.sum(c.t.dy, [0]),
  };
}
function refConv(c: Case, hashed: boolean) {
  const w = hashed ? ref.hashGather(c.t.w, convTable(c)).reshape(convWeightShape(c)) : c.t.w;
  const dw = ref.conv2dGradWeight(c.t.x, c.t.dy, convWeightShape(c), convP(c));
  return {
    y: ref.biasAdd(ref.conv2d(c.t.x, w, convP(c)), c.t.b),
    dx: ref.conv2dGradInput(c.t.dy, w, c.t.x.shape, convP(c)),
    dw: hashed ? ref.hashScatter(dw, convTable(c)) : dw,
    db: ref.sum(c.t.dy, [0, 2, 3]),
  };
}

const POOL = [
  [1, 1, 2, 2, 2, 2],
  [2, 3, 6, 6, 2, 2],
  [3, 1, 7, 8, 2, 2],
  [2, 2, 9, 11, 2, 2],
  [1, 6, 28, 28, 2, 2],
  [2, 2, 9, 9, 3, 3],
  [2, 3, 8, 7, 2, 3],
]; // n c h w k s
function poolCase([n, c, h, w, k, s]: number[]): Case {
  const oh = Math.floor((h - k) / s) + 1,
    ow = Math.floor((w - k) / s) + 1;
  return {
    label: `${n}×${c}×${h}×${w} k${k} s${s}`,
    t: { x: coarse([n, c, h, w]), dy: r([n, c, oh, ow]) },
    g: { batch: n, channels: c, height: h, width: w, kernelSize: k, stride: s },
  };
}
const poolP = (c: Case) => ({ kernelSize: c.g.kernelSize, stride: c.g.stride });
const poolOnChain = (c: Case) =>
  onChain(
    [{ type: 'maxpool2d', kernelSize: c.g.kernelSize, stride: c.g.stride }],
    new Map(),
    [c.g.channels, c.g.height, c.g.width],
    c.t.x,
    c.t.dy,
  );

const ELEMENTWISE = [[1], [3], [5, 7], [4, 6, 9, 9]];
function elementwiseCase(shape: number[]): Case {
  const x = r(shape),
    dy = r(shape);
  // Special values: NaN, ±0, ±∞ and exact ties on the first elements.
  [NaN, 0, -0, Infinity, -Infinity, 0.5, 0.5].forEach((v, i) => {
    if (i < x.size) x.data[i] = v;
  });
  return { label: shape.join('×'), t: { x, dy }, g: { size: x.size } };
}
const reluOnChain = (c: Case) => {
  const shape = c.t.x.rank === 4 ? c.t.x.shape : [c.t.x.size, 1, 1, 1];
  return onChain(
    [{ type: 'relu' }],
    new Map(),
    shape.slice(1),
    c.t.x.reshape(shape),
    c.t.dy.reshape(shape),
  );
};

const ROWS = [
  [1, 1],
  [3, 10],
  [7, 33],
  [2, 1000],
];
const rowsCase = ([rows, cols]: number[]): Case => {
  const x = randomTensor([rows, cols], -30, 30, 'f32');
  return { label: `${rows}×${cols}`, t: { x }, g: { rows, cols } };
};

export const KERNELS: KernelEntry[] = [
  {
    id: 'matmul',
    compare: 'norm',
    cases: () =>
      [
        [1, 1, 1],
        [3, 5, 7],
        [17, 33, 9],
        [64, 784, 300],
        [4, 0, 3],
        [33, 600, 20],
      ].flatMap(([m, k, n]) =>
        [
          [false, false],
          [true, false],
          [false, true],
          [true, true],
        ].map(([tA, tB]) => ({
          label: `${m}×${k}·${k}×${n}${tA ? ' Aᵀ' : ''}${tB ? ' Bᵀ' : ''}`,
          t: { a: r(tA ? [k, m] : [m, k]), b: r(tB ? [n, k] : [k, n]) },
          g: { tA: +tA, tB: +tB },
        })),
      ),
    cpu: (c) => ({ y: data(ref.matmul(c.t.a, c.t.b, !!c.g.tA, !!c.g.tB)) }),
    engines: { wasm: (c) => ({ y: data(wasm!.matmul(c.t.a, c.t.b, !!c.g.tA, !!c.g.tB)) }) },
  },
  {
    id: 'bias-add',
    compare: 'exact',
    cases: () =>
      [
        [2, 3],
        [4, 6, 9, 9],
        [3, 5, 1, 7],
      ].map((s) => ({
        label: s.join('×'),
        t: { x: r(s), b: r([s[1]]) },
        g: {
          size: s.reduce((a, v) => a * v, 1),
          channels: s[1],
          spatial: s.slice(2).reduce((a, v) => a * v, 1),
        },
      })),
    cpu: (c) => ({ y: data(ref.biasAdd(c.t.x, c.t.b)) }),
    engines: {
      wasm: (c) => ({ y: data(wasm!.biasAdd(c.t.x, c.t.b)) }),
      webgpu: async (c, run) => ({
        y: (await run('bias-add', c.g, { x: f32(c.t.x), bias: f32(c.t.b) })).y,
      }),
    },
  },
  {
    id: 'relu',
    compare: 'exact',
    cases: () => ELEMENTWISE.map(elementwiseCase),
    cpu: (c) => ({ y: data(ref.unary('relu', c.t.x)) }),
    engines: {
      wasm: (c) => ({ y: data(wasm!.unary('relu', c.t.x)) }),
      'wasm-chain': (c) => ({ y: data(reluOnChain(c).y) }),
      webgpu: async (c, run) => ({ y: (await run('relu', c.g, { x: f32(c.t.x) })).y }),
    },
  },
  {
    // The autodiff's rule dy·[x > 0] (a NaN input routes nothing: NaN > 0 is false). Engines that select
    // instead of multiplying return +0 where the product is -0 (dy < 0, x ≤ 0): the same gradient, so values
    // are compared, not the sign of zero.
    id: 'relu-grad-input',
    compare: 'value',
    cases: () => ELEMENTWISE.map(elementwiseCase),
    cpu: (c) => ({
      dx: data(
        ref.binary('mul', c.t.dy, ref.compare('gt', c.t.x, new Tensor([], Float32Array.of(0)))),
      ),
    }),
    engines: {
      'wasm-chain': (c) => ({ dx: data(reluOnChain(c).back!.dx) }),
      webgpu: async (c, run) => ({
        dx: (await run('relu-grad-input', c.g, { x: f32(c.t.x), dy: f32(c.t.dy) })).dx,
      }),
    },
  },
  {
    id: 'max-pool2d',
    compare: 'exact',
    cases: () => POOL.map(poolCase),
    cpu: (c) => ({ y: data(ref.maxPool2d(c.t.x, poolP(c))) }),
    engines: {
      wasm: (c) => ({ y: data(wasm!.maxPool2d(c.t.x, poolP(c))) }),
      'wasm-chain': (c) => ({ y: data(poolOnChain(c).y) }),
      webgpu: async (c, run) => ({ y: (await run('max-pool2d', c.g, { x: f32(c.t.x) })).y }),
    },
  },
  {
    id: 'max-pool2d-grad-input',
    compare: 'exact',
    // Windows that do not overlap (stride ≥ kernel): each input takes at most one gradient, so routing is exact.
    cases: () => POOL.filter((p) => p[5] >= p[4]).map(poolCase),
    cpu: (c) => ({ dx: data(ref.maxPool2dGradInput(c.t.x, c.t.dy, poolP(c))) }),
    engines: {
      wasm: (c) => ({ dx: data(wasm!.maxPool2dGradInput(c.t.x, c.t.dy, poolP(c))) }),
      'wasm-chain': (c) => ({ dx: data(poolOnChain(c).back!.dx) }),
      webgpu: async (c, run) => {
        const { argmax } = await run('max-pool2d', c.g, { x: f32(c.t.x) });
        return {
          dx: (
            await run('max-pool2d-grad-input', c.g, {
              dy: f32(c.t.dy),
              argmax: Uint32Array.from(argmax),
            })
          ).dx,
        };
      },
    },
  },
  {
    id: 'dense',
    compare: 'norm',
    cases: () => DENSE.map((d) => denseCase(d)),
    cpu: (c) => ({ y: data(refDense(c, false).y) }),
    engines: {
      wasm: (c) => ({ y: data(wasm!.biasAdd(wasm!.matmul(c.t.x, c.t.w, false, true), c.t.b)) }),
      'wasm-chain': (c) => ({ y: data(denseOnChain(c, false).y) }),
      webgpu: async (c, run) => ({
        y: (
          await run('dense', gpuDense(c), { x: f32(c.t.x), weight: f32(c.t.w), bias: f32(c.t.b) })
        ).y,
      }),
    },
  },
  {
    id: 'dense-grad-input',
    compare: 'norm',
    cases: () => DENSE.map((d) => denseCase(d)),
    cpu: (c) => ({ dx: data(refDense(c, false).dx) }),
    engines: {
      wasm: (c) => ({ dx: data(wasm!.matmul(c.t.dy, c.t.w)) }),
      'wasm-chain': (c) => ({ dx: data(denseOnChain(c, false).back!.dx) }),
      webgpu: async (c, run) => ({
        dx: (await run('dense-grad-input', gpuDense(c), { dy: f32(c.t.dy), weight: f32(c.t.w) }))
          .dx,
      }),
    },
  },
  {
    id: 'dense-grad-weight',
    compare: 'norm',
    cases: () => DENSE.map((d) => denseCase(d)),
    cpu: (c) => {
      const g = refDense(c, false);
      return { dweight: data(g.dw), dbias: data(g.db) };
    },
    engines: {
      'wasm-chain': (c) => {
        const g = denseOnChain(c, false).back!.grads!;
        return { dweight: data(g.get('w')), dbias: data(g.get('b')) };
      },
      webgpu: async (c, run) => {
        const o = await run('dense-grad-weight', gpuDense(c), { x: f32(c.t.x), dy: f32(c.t.dy) });
        return { dweight: o.dweight, dbias: o.dbias };
      },
    },
  },
  {
    // The index table every hashed kernel reads: bucket and sign of each virtual-weight entry (xxh32, bit-exact).
    id: 'hash-table',
    compare: 'exact',
    cases: () =>
      [
        [1, 1, 1],
        [10, 784, 980],
        [16, 150, 300],
        [7, 13, 5],
      ].flatMap(([rows, cols, buckets]) =>
        [0, 1, 0x2545f491, 0xffffffff].map((seed) => ({
          label: `${rows}×${cols} K=${buckets} seed=${seed}`,
          t: {},
          g: { rows, cols, seed, buckets },
        })),
      ),
    cpu: (c) => {
      const t = hashTable(c.g.rows, c.g.cols, c.g.seed, c.g.buckets);
      return { bucket: t.bucket, sign: Float32Array.from(t.sign) };
    },
    engines: {
      webgpu: async (c, run) => {
        const o = await run('hash-table', c.g);
        return { bucket: o.bucket, sign: o.sign };
      },
    },
  },
  {
    id: 'hashed-dense',
    compare: 'norm',
    cases: hashedDenseCases,
    cpu: (c) => ({ y: data(refDense(c, true).y) }),
    engines: {
      'wasm-chain': (c) => ({ y: data(denseOnChain(c, true).y) }),
      webgpu: async (c, run) => ({
        y: (
          await run('hashed-dense', gpuDense(c), {
            x: f32(c.t.x),
            weight: f32(c.t.w),
            bias: f32(c.t.b),
          })
        ).y,
      }),
    },
  },
  {
    id: 'hashed-dense-grad-input',
    compare: 'norm',
    cases: hashedDenseCases,
    cpu: (c) => ({ dx: data(refDense(c, true).dx) }),
    engines: {
      'wasm-chain': (c) => ({ dx: data(denseOnChain(c, true).back!.dx) }),
      webgpu: async (c, run) => ({
        dx: (
          await run('hashed-dense-grad-input', gpuDense(c), { dy: f32(c.t.dy), weight: f32(c.t.w) })
        ).dx,
      }),
    },
  },
  {
    id: 'hashed-dense-grad-weight',
    compare: 'norm',
    cases: hashedDenseCases,
    cpu: (c) => {
      const g = refDense(c, true);
      return { dweight: data(g.dw), dbias: data(g.db) };
    },
    engines: {
      'wasm-chain': (c) => {
        const g = denseOnChain(c, true).back!.grads!;
        return { dweight: data(g.get('w')), dbias: data(g.get('b')) };
      },
      webgpu: async (c, run) => {
        const o = await run('hashed-dense-grad-weight', gpuDense(c), {
          x: f32(c.t.x),
          dy: f32(c.t.dy),
          ...bucketEntries(denseTable(c).bucket, c.g.buckets),
        });
        return { dweight: o.dweight, dbias: o.dbias };
      },
    },
  },
  {
    id: 'conv2d',
    compare: 'norm',
    cases: convCases(false),
    cpu: (c) => ({ y: data(refConv(c, false).y) }),
    engines: {
      wasm: (c) => ({ y: data(wasm!.biasAdd(wasm!.conv2d(c.t.x, c.t.w, convP(c)), c.t.b)) }),
      'wasm-chain': (c) => ({ y: data(convOnChain(c, false).y) }),
      webgpu: async (c, run) => ({
        y: (
          await run('conv2d', gpuConv(c), { x: f32(c.t.x), weight: f32(c.t.w), bias: f32(c.t.b) })
        ).y,
      }),
    },
  },
  {
    id: 'conv2d-grad-input',
    compare: 'norm',
    cases: convCases(false),
    cpu: (c) => ({ dx: data(refConv(c, false).dx) }),
    engines: {
      wasm: (c) => ({ dx: data(wasm!.conv2dGradInput(c.t.dy, c.t.w, c.t.x.shape, convP(c))) }),
      'wasm-chain': (c) => ({ dx: data(convOnChain(c, false).back!.dx) }),
      webgpu: async (c, run) => ({
        dx: (await run('conv2d-grad-input', gpuConv(c), { dy: f32(c.t.dy), weight: f32(c.t.w) }))
          .dx,
      }),
    },
  },
  {
    id: 'conv2d-grad-weight',
    compare: 'norm',
    cases: convCases(false),
    cpu: (c) => {
      const g = refConv(c, false);
      return { dweight: data(g.dw), dbias: data(g.db) };
    },
    engines: {
      wasm: (c) => ({
        dweight: data(wasm!.conv2dGradWeight(c.t.x, c.t.dy, convWeightShape(c), convP(c))),
        dbias: data(wasm!.sum(c.t.dy, [0, 2, 3])),
      }),
      'wasm-chain': (c) => {
        const g = convOnChain(c, false).back!.grads!;
        return { dweight: data(g.get('w')), dbias: data(g.get('b')) };
      },
      webgpu: async (c, run) => {
        const o = await run('conv2d-grad-weight', gpuConv(c), { x: f32(c.t.x), dy: f32(c.t.dy) });
        return { dweight: o.dweight, dbias: o.dbias };
      },
    },
  },
  {
    id: 'hashed-conv2d',
    compare: 'norm',
    cases: convCases(true),
    cpu: (c) => ({ y: data(refConv(c, true).y) }),
    engines: {
      'wasm-chain': (c) => ({ y: data(convOnChain(c, true).y) }),
      webgpu: async (c, run) => ({
        y: (
          await run('hashed-conv2d', gpuConv(c), {
            x: f32(c.t.x),
            weight: f32(c.t.w),
            bias: f32(c.t.b),
          })
        ).y,
      }),
    },
  },
  {
    id: 'hashed-conv2d-grad-input',
    compare: 'norm',
    cases: convCases(true),
    cpu: (c) => ({ dx: data(refConv(c, true).dx) }),
    engines: {
      'wasm-chain': (c) => ({ dx: data(convOnChain(c, true).back!.dx) }),
      webgpu: async (c, run) => ({
        dx: (
          await run('hashed-conv2d-grad-input', gpuConv(c), { dy: f32(c.t.dy), weight: f32(c.t.w) })
        ).dx,
      }),
    },
  },
  {
    id: 'hashed-conv2d-grad-weight',
    compare: 'norm',
    cases: convCases(true),
    cpu: (c) => {
      const g = refConv(c, true);
      return { dweight: data(g.dw), dbias: data(g.db) };
    },
    engines: {
      'wasm-chain': (c) => {
        const g = convOnChain(c, true).back!.grads!;
        return { dweight: data(g.get('w')), dbias: data(g.get('b')) };
      },
      webgpu: async (c, run) => {
        const o = await run('hashed-conv2d-grad-weight', gpuConv(c), {
          x: f32(c.t.x),
          dy: f32(c.t.dy),
          ...bucketEntries(convTable(c).bucket, c.g.buckets),
        });
        return { dweight: o.dweight, dbias: o.dbias };
      },
    },
  },
  {
    id: 'softmax',
    compare: 'each',
    cases: () => ROWS.map(rowsCase),
    cpu: (c) => ({ y: data(ref.softmax(c.t.x)) }),
    engines: {
      webgpu: async (c, run) => ({ y: (await run('softmax', c.g, { x: f32(c.t.x) })).y }),
    },
  },
  {
    id: 'log-softmax',
    compare: 'each',
    cases: () => ROWS.map(rowsCase),
    cpu: (c) => ({ y: data(ref.logSoftmax(c.t.x)) }),
    engines: {
      webgpu: async (c, run) => ({ y: (await run('log-softmax', c.g, { x: f32(c.t.x) })).y }),
    },
  },
];

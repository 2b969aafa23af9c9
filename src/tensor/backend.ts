// The Backend interface: the closed list of primitives every backend implements (reference CPU, fast CPU,
// WebGPU). Autodiff composes every gradient from these, so backward passes run on whichever backend is active.
import type { Tensor } from './tensor.ts';

export type UnaryOp = 'neg' | 'abs' | 'sign' | 'exp' | 'log' | 'tanh' | 'sqrt' | 'square' | 'relu';
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum';
/** Comparisons return 1 where true, 0 where false. */
export type CompareOp = 'gt' | 'ge' | 'lt' | 'le' | 'eq';

/**
 * What the HashedNets kernels need of a layer's index table (src/hash builds it; declared here so tensor
 * imports nothing): bucket and ±1 sign of each entry of the row-major [rows, cols] virtual weight.
 */
export interface HashIndex {
  rows: number;
  cols: number;
  buckets: number;
  bucket: Uint32Array;
  sign: Int8Array;
}

/** 2-D convolution geometry (square kernels, NCHW, cross-correlation as in every DL framework). */
export interface Conv2dParams {
  stride: number;
  padding: number;
}
/** Pooling geometry (square windows, no padding). */
export interface Pool2dParams {
  kernelSize: number;
  stride: number;
}

/**
 * Every primitive returns a fresh tensor and never writes its inputs. Binary and compare ops broadcast
 * with NumPy rules; the result is f64 when any input is f64, else f32.
 */
export interface Backend {
  readonly name: string;
  /** Optional: one line on where this backend runs (device, adapter) for logs and server metadata; else `name`. */
  describe?(): string;
  unary(op: UnaryOp, x: Tensor): Tensor;
  binary(op: BinaryOp, a: Tensor, b: Tensor): Tensor;
  compare(op: CompareOp, a: Tensor, b: Tensor): Tensor;
  /** Elementwise min(max(x, lo), hi). */
  clamp(x: Tensor, lo: number, hi: number): Tensor;
  /** Sum over `axes` (all when omitted). */
  sum(x: Tensor, axes?: readonly number[], keepDims?: boolean): Tensor;
  /** Maximum along one axis. */
  max(x: Tensor, axis: number, keepDims?: boolean): Tensor;
  /** Index of the maximum along one axis; ties go to the lowest index. Values are integers stored as floats. */
  argmax(x: Tensor, axis: number): Tensor;
  /** Repeats `x` to `shape` with NumPy broadcasting rules. */
  broadcastTo(x: Tensor, shape: readonly number[]): Tensor;
  /** [n] integer indices → [n, depth] one-hot rows. */
  oneHot(indices: Tensor, depth: number): Tensor;
  /** 2-D matrix product op(a)·op(b), op = transpose when the flag is set. */
  matmul(a: Tensor, b: Tensor, transA?: boolean, transB?: boolean): Tensor;
  /** Adds b[c] along axis 1 of x ([N,C] or [N,C,H,W]). */
  biasAdd(x: Tensor, b: Tensor): Tensor;
  conv2d(x: Tensor, w: Tensor, p: Conv2dParams): Tensor;
  /** dL/dx of conv2d given dL/dy. */
  conv2dGradInput(dy: Tensor, w: Tensor, xShape: readonly number[], p: Conv2dParams): Tensor;
  /** dL/dw of conv2d given dL/dy. */
  conv2dGradWeight(x: Tensor, dy: Tensor, wShape: readonly number[], p: Conv2dParams): Tensor;
  maxPool2d(x: Tensor, p: Pool2dParams): Tensor;
  /** Routes dy to the first maximum of each window (lowest flat index on ties). */
  maxPool2dGrad(x: Tensor, dy: Tensor, p: Pool2dParams): Tensor;
  avgPool2d(x: Tensor, p: Pool2dParams): Tensor;
  avgPool2dGrad(dy: Tensor, xShape: readonly number[], p: Pool2dParams): Tensor;
  /** Softmax along the last axis (max-subtracted). */
  softmax(x: Tensor): Tensor;
  /** log-softmax along the last axis (log-sum-exp with the max subtracted). */
  logSoftmax(x: Tensor): Tensor;
  /** HashedNets virtual weight: V[e] = sign[e] · w[bucket[e]] for every entry e of the [rows, cols] table. */
  hashGather(w: Tensor, table: HashIndex): Tensor;
  /** Its transpose: dw[k] = Σ_{e : bucket[e] = k} sign[e] · dV[e], a [buckets] tensor. */
  hashScatter(dV: Tensor, table: HashIndex): Tensor;
  /** Per-row cross-entropy −log softmax(z)[y] of [N, K] logits and [N] integer labels → [N]. */
  crossEntropy(logits: Tensor, labels: Tensor): Tensor;
  /**
   * Optional: compiles a chain of steps (fixed weights) into one object that runs the whole chain inside the
   * backend, forward and backward, with activations never leaving it; null where it cannot. Results must
   * equal running the steps op by op on this backend, up to float32 rounding.
   */
  compileChain?(steps: readonly InferenceStep[], inputShape: readonly number[]): CompiledChain | null;
  /**
   * Optional: compiles a whole network (layer descriptions plus the parameter tensors they name) into a chain
   * that runs on a device with asynchronous readback (WebGPU), activations staying on the device between
   * layers; null where it cannot (the caller runs the synchronous path). Results equal the synchronous path
   * up to float32 rounding. Sequential.forwardAsync / lossGradientsAsync use it.
   */
  compileAsyncChain?(layers: readonly ChainLayer[], params: ReadonlyMap<string, Tensor>, inputShape: readonly number[]): AsyncChain | null;
}

/**
 * A layer as an async chain sees it: nn/layer-spec.ts's LayerSpec is assignable to this (declared here so
 * tensor imports nothing). Weights are named; hashed layers carry their K real weights and the hash.
 */
export type ChainLayer =
  | { type: 'dense' | 'hashed-dense'; inDim: number; outDim: number; weight: string; bias: string; hash?: { buckets: number; seed: number } }
  | {
      type: 'conv2d' | 'hashed-conv2d';
      inChannels: number;
      outChannels: number;
      kernelSize: number;
      stride: number;
      padding: number;
      weight: string;
      bias: string;
      hash?: { buckets: number; seed: number };
    }
  | { type: 'relu' }
  | { type: 'maxpool2d' | 'avgpool2d'; kernelSize: number; stride: number }
  | { type: 'flatten' };

/**
 * A compiled network on an asynchronous device (see Backend.compileAsyncChain). Calls run in the order they
 * are made. When the device is lost or out of memory they reject with a ChainFault and the chain is dead
 * (every later call rejects the same way): the caller reruns the work on the synchronous path and compiles
 * afresh later.
 */
export interface AsyncChain {
  /** Logits [N, classes] of a batch; with keep, the activations stay for one backward(). One readback. */
  forward(x: Tensor, keep?: boolean): Promise<Tensor>;
  /**
   * Given dL/d(logits) of the last forward(x, true): dL/dx and/or dL/d(parameter) by parameter name (hashed
   * layers: of their K real weights). One readback.
   */
  backward(dy: Tensor, want: { input: boolean; params: boolean }): Promise<{ dx: Tensor | null; grads: Map<string, Tensor> | null }>;
  /** Uploads the parameter tensors that differ (by identity) from the last uploaded ones, in place. */
  setParams(params: ReadonlyMap<string, Tensor>): void;
  /** Frees device memory now; later calls reject. */
  dispose(): void;
}

/** Why an AsyncChain gave up (device lost, out of device memory): rerun on the synchronous path. */
export class ChainFault extends Error {
  constructor(message: string, readonly reason: 'device-lost' | 'out-of-memory' | 'disposed' | 'too-large') {
    super(message);
    this.name = 'ChainFault';
  }
}

/** A compiled chain (see Backend.compileChain). */
export interface CompiledChain {
  /**
   * Output of the chain for a batch; with keep, the activations stay for one backward(). keep = 'params' says
   * that backward() will want parameter gradients, so the chain may keep more (the wasm chain keeps its
   * im2col columns rather than rebuilding them).
   */
  forward(x: Tensor, keep?: boolean | 'params'): Tensor;
  /**
   * Given dL/d(output) of the last forward(x, true): dL/dx and/or, per step, dL/d(weight) and dL/d(bias)
   * (null for steps without weights). The kept activations are consumed.
   */
  backward(dy: Tensor, want: { input: boolean; params: boolean }): { dx: Tensor | null; params: ({ weight: Tensor; bias: Tensor } | null)[] };
  /**
   * Swaps in new weights for the same steps (same kinds and shapes: a training step's update) without
   * recompiling; false if they do not fit (the caller compiles afresh).
   */
  setWeights(steps: readonly InferenceStep[]): boolean;
  /** Frees backend memory held by the chain now (it is also freed when the chain is garbage-collected). */
  dispose(): void;
}

/** One stage of a compiled inference chain (nn/sequential.ts lowers its layers to these). */
export type InferenceStep =
  | { kind: 'conv2d'; weight: Tensor; bias: Tensor; params: Conv2dParams }
  | { kind: 'dense'; weight: Tensor; bias: Tensor }
  | { kind: 'relu' }
  | { kind: 'maxPool2d'; params: Pool2dParams }
  | { kind: 'flatten' };

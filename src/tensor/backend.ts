// The Backend interface: the closed list of primitives every backend implements (reference CPU, fast CPU,
// WebGPU). Autodiff composes every gradient from these, so backward passes run on whichever backend is active.
// The optional whole-network engines (compiled chains) are declared apart, in chain.ts.
import type { AsyncChain, ChainLayer, CompiledChain } from './chain.ts';
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
  maxPool2dGradInput(x: Tensor, dy: Tensor, p: Pool2dParams): Tensor;
  avgPool2d(x: Tensor, p: Pool2dParams): Tensor;
  avgPool2dGradInput(dy: Tensor, xShape: readonly number[], p: Pool2dParams): Tensor;
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
   * Optional: compiles a network (layer descriptions plus the parameter tensors they name) into one object
   * that runs forward and backward inside the backend, activations never leaving it; null where it cannot.
   * Results equal running the layers op by op on this backend, up to float32 rounding. See chain.ts.
   */
  compileChain?(
    layers: readonly ChainLayer[],
    params: ReadonlyMap<string, Tensor>,
    inputShape: readonly number[],
  ): CompiledChain | null;
  /**
   * Optional: the same for a device with asynchronous readback (WebGPU): activations stay on the device
   * between layers; null where it cannot (the caller runs the synchronous path).
   */
  compileAsyncChain?(
    layers: readonly ChainLayer[],
    params: ReadonlyMap<string, Tensor>,
    inputShape: readonly number[],
  ): AsyncChain | null;
}

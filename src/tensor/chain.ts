// Compiled chains: the whole-network engines a backend may offer beside its primitives (the WASM chain runs
// synchronously in linear memory, the WebGPU chain on a device with asynchronous readback). Both compile
// from the same layer description and own their hashed-weight expansion and gradient scatter.
import type { Tensor } from './tensor.ts';

/** What a dense layer (plain or hashed) is: sizes and the names of its parameter tensors. */
export type DenseFields = { inDim: number; outDim: number; weight: string; bias: string };
/** What a conv2d layer (plain or hashed) is: geometry and the names of its parameter tensors. */
export type Conv2dFields = {
  inChannels: number;
  outChannels: number;
  kernelSize: number;
  stride: number;
  padding: number;
  weight: string;
  bias: string;
};
/** HashedNets parameters of a layer: K real weights and the per-layer hash seed. */
export type HashParams = { buckets: number; seed: number };

/**
 * A layer as a chain sees it: nn/layer-spec.ts's LayerSpec (built from the same fields) is assignable to
 * this (declared here so tensor imports nothing). Hashed layers carry their K real weights and the hash.
 */
export type ChainLayer =
  | ({ type: 'dense' | 'hashed-dense'; hash?: HashParams } & DenseFields)
  | ({ type: 'conv2d' | 'hashed-conv2d'; hash?: HashParams } & Conv2dFields)
  | { type: 'relu' }
  | { type: 'maxpool2d' | 'avgpool2d'; kernelSize: number; stride: number }
  | { type: 'flatten' };

/** The kernel ids of the forward pass; backward kernels add -grad-input / -grad-weight. */
export type LayerKernel =
  'dense' | 'hashed-dense' | 'conv2d' | 'hashed-conv2d' | 'relu' | 'max-pool2d' | 'avg-pool2d';

/**
 * The one place where a model file's layer type names meet kernel ids: model.json keeps `maxpool2d` and
 * `avgpool2d` (files in the wild use them); every engine names the kernel `max-pool2d` / `avg-pool2d`.
 * Flatten is a reshape and runs no kernel.
 */
export const LAYER_KERNEL: Readonly<Record<ChainLayer['type'], LayerKernel | null>> = {
  dense: 'dense',
  'hashed-dense': 'hashed-dense',
  conv2d: 'conv2d',
  'hashed-conv2d': 'hashed-conv2d',
  relu: 'relu',
  maxpool2d: 'max-pool2d',
  avgpool2d: 'avg-pool2d',
  flatten: null,
};

/** Gradients a backward pass returns: dL/dx and/or dL/d(parameter) by name (hashed layers: of their K real weights). */
export interface ChainGradients {
  dx: Tensor | null;
  grads: Map<string, Tensor> | null;
}

/** A compiled network on a synchronous engine (see Backend.compileChain). */
export interface CompiledChain {
  /**
   * Logits of a batch; with keep, the activations stay for one backward(). keep = 'params' says that
   * backward() will want parameter gradients, so the chain may keep more (the wasm chain keeps its im2col
   * columns rather than rebuilding them).
   */
  forward(x: Tensor, keep?: boolean | 'params'): Tensor;
  /** Given dL/d(logits) of the last forward(x, true): the gradients asked for. The kept activations are consumed. */
  backward(dy: Tensor, want: { input: boolean; params: boolean }): ChainGradients;
  /**
   * Swaps in the parameter tensors that differ (by identity) from the last ones (a training step's update,
   * a random defense's draw) without recompiling. Shapes are the compiled ones (the model checked them).
   */
  setParams(params: ReadonlyMap<string, Tensor>): void;
  /** Frees backend memory held by the chain now (it is also freed when the chain is garbage-collected). */
  dispose(): void;
}

/**
 * A compiled network on an asynchronous device (see Backend.compileAsyncChain). Calls run in the order they
 * are made. When the device is lost or out of memory they reject with a ChainFault and the chain is dead
 * (every later call rejects the same way): the caller reruns the work on the synchronous path and compiles
 * afresh later.
 */
export interface AsyncChain {
  /** Logits [N, classes] of a batch; with keep, the activations stay for one backward(). One readback. */
  forward(x: Tensor, keep?: boolean): Promise<Tensor>;
  /** Given dL/d(logits) of the last forward(x, true): the gradients asked for. One readback. */
  backward(dy: Tensor, want: { input: boolean; params: boolean }): Promise<ChainGradients>;
  /** Uploads the parameter tensors that differ (by identity) from the last uploaded ones, in place. */
  setParams(params: ReadonlyMap<string, Tensor>): void;
  /** Frees device memory now; later calls reject. */
  dispose(): void;
}

/** Why an AsyncChain gave up (device lost, out of device memory): rerun on the synchronous path. */
export class ChainFault extends Error {
  constructor(
    message: string,
    readonly reason: 'device-lost' | 'out-of-memory' | 'disposed' | 'too-large',
  ) {
    super(message);
    this.name = 'ChainFault';
  }
}

// The fast CPU backend: matmul and the three convolution kernels on a 4×8 register-blocked WebAssembly SIMD
// GEMM (convolutions as chunked im2col + GEMM); relu, add/sub/mul, scalar compares, bias add and max pooling
// on SIMD/scalar WebAssembly kernels; every other primitive from the reference kernels. f32 only: f64 tensors
// (gradient checks in double precision) take the reference path.
import { type Backend, type Conv2dParams, Tensor } from '../../tensor/index.ts';
import { referenceBackend } from '../cpu/index.ts';
import { conv2dBackwardInput, conv2dBackwardWeight, conv2dForward, geometry } from './conv.ts';
import { biasAdd, binary, compare, maxPool2d, maxPool2dGrad, unary } from './elementwise.ts';
import { gemm } from './gemm.ts';
import { compileChain } from './chain.ts';
import { wasmSimdAvailable } from './module.ts';

const f32 = (...ts: Tensor[]) => ts.every((t) => t.dtype === 'f32');

function matmul(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  if (!f32(a, b) || a.rank !== 2 || b.rank !== 2) return referenceBackend.matmul(a, b, transA, transB);
  const m = transA ? a.shape[1] : a.shape[0];
  const k = transA ? a.shape[0] : a.shape[1];
  const n = transB ? b.shape[0] : b.shape[1];
  if ((transB ? b.shape[1] : b.shape[0]) !== k) return referenceBackend.matmul(a, b, transA, transB); // reference names the error
  return new Tensor([m, n], gemm(a.data as Float32Array, b.data as Float32Array, m, n, k, transA, transB));
}

function conv2d(x: Tensor, wt: Tensor, params: Conv2dParams): Tensor {
  const g = geometry(x.shape, wt.shape, params);
  if (!g || !f32(x, wt)) return referenceBackend.conv2d(x, wt, params);
  return new Tensor([g.n, g.oc, g.oh, g.ow], conv2dForward(x.data as Float32Array, wt.data as Float32Array, g));
}

function conv2dGradInput(dy: Tensor, wt: Tensor, xShape: readonly number[], params: Conv2dParams): Tensor {
  const g = geometry(xShape, wt.shape, params);
  if (!g || !f32(dy, wt) || dy.size !== g.n * g.oc * g.oh * g.ow) return referenceBackend.conv2dGradInput(dy, wt, xShape, params);
  return new Tensor(xShape, conv2dBackwardInput(dy.data as Float32Array, wt.data as Float32Array, g));
}

function conv2dGradWeight(x: Tensor, dy: Tensor, wShape: readonly number[], params: Conv2dParams): Tensor {
  const g = geometry(x.shape, wShape, params);
  if (!g || g.n === 0 || !f32(x, dy) || dy.size !== g.n * g.oc * g.oh * g.ow) return referenceBackend.conv2dGradWeight(x, dy, wShape, params);
  return new Tensor(wShape, conv2dBackwardWeight(x.data as Float32Array, dy.data as Float32Array, g));
}

/** The WebAssembly SIMD backend, or null where the runtime cannot run the module. */
export function createWasmBackend(): Backend | null {
  if (!wasmSimdAvailable()) return null;
  return {
    ...referenceBackend, name: 'cpu-wasm-simd',
    matmul, conv2d, conv2dGradInput, conv2dGradWeight, unary, binary, compare, biasAdd, maxPool2d, maxPool2dGrad,
    compileChain,
  };
}

// The fast CPU backend: matmul and the three convolution kernels on a 4×8 register-blocked WebAssembly SIMD
// GEMM (convolutions as chunked im2col + GEMM); relu, add/sub/mul, scalar compares, bias add and max pooling
// on SIMD/scalar WebAssembly kernels; every other primitive from the reference kernels. f32 only: f64 tensors
// (gradient checks in double precision) take the reference path.
import type { Backend } from '../../tensor/index.ts';
import { referenceBackend } from '../cpu/index.ts';
import { binary, compare, unary } from './elementwise.ts';
import { matmul } from './matmul.ts';
import { biasAdd } from './bias-add.ts';
import { conv2d, conv2dGradInput, conv2dGradWeight } from './conv2d.ts';
import { maxPool2d, maxPool2dGradInput } from './max-pool2d.ts';
import { compileChain } from './chain.ts';
import { wasmSimdAvailable } from './module.ts';

export { useKernelsModule } from './module.ts';

/** The WebAssembly SIMD backend, or null where the runtime cannot run the module. */
export function createWasmBackend(): Backend | null {
  if (!wasmSimdAvailable()) return null;
  return {
    ...referenceBackend,
    name: 'cpu-wasm-simd',
    matmul,
    conv2d,
    conv2dGradInput,
    conv2dGradWeight,
    unary,
    binary,
    compare,
    biasAdd,
    maxPool2d,
    maxPool2dGradInput,
    compileChain,
  };
}

// matmul on the 4×8 register-blocked WebAssembly SIMD GEMM (gemm.ts) for f32 2-D operands; other inputs go
// to the reference kernel, which names every shape error.
import { Tensor } from '../../tensor/index.ts';
import { referenceBackend } from '../cpu/index.ts';
import { isF32 } from './f32.ts';
import { gemm } from './gemm.ts';

export function matmul(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  if (!isF32(a) || !isF32(b) || a.rank !== 2 || b.rank !== 2)
    return referenceBackend.matmul(a, b, transA, transB);
  const m = transA ? a.shape[1] : a.shape[0];
  const k = transA ? a.shape[0] : a.shape[1];
  const n = transB ? b.shape[0] : b.shape[1];
  if ((transB ? b.shape[1] : b.shape[0]) !== k)
    return referenceBackend.matmul(a, b, transA, transB); // reference names the error
  return new Tensor(
    [m, n],
    gemm(a.data as Float32Array, b.data as Float32Array, m, n, k, transA, transB),
  );
}

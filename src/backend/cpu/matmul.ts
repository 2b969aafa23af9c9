// Reference matmul: the 2-D matrix product op(a)·op(b) with optional transposes.
import { alloc, shapeStr, Tensor, type TensorData } from '../../tensor/index.ts';
import { resultDType } from './elementwise.ts';

/** Row-major transpose of a [rows, cols] block. */
function transpose(src: TensorData, rows: number, cols: number): TensorData {
  const out = alloc(src instanceof Float64Array ? 'f64' : 'f32', rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  return out;
}

/** op(a)[M,K] · op(b)[K,N] → [M,N]. */
export function matmul(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  if (a.rank !== 2 || b.rank !== 2)
    throw new Error(
      `matmul: operands must be 2-D, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`,
    );
  const m = transA ? a.shape[1] : a.shape[0];
  const k = transA ? a.shape[0] : a.shape[1];
  const k2 = transB ? b.shape[1] : b.shape[0];
  const n = transB ? b.shape[0] : b.shape[1];
  if (k !== k2)
    throw new Error(
      `matmul: inner dimensions differ (${shapeStr(a.shape)}${transA ? 'ᵀ' : ''} · ${shapeStr(b.shape)}${transB ? 'ᵀ' : ''})`,
    );
  const out = alloc(resultDType(a, b), m * n);
  // A transposed operand is copied once into row-major [M,K], so the loops below see only two layouts.
  const A = transA ? transpose(a.data, k, m) : a.data;
  const B = b.data;
  if (!transB) {
    // i-k-j order: the inner loop walks a contiguous row of b and of the output.
    for (let i = 0; i < m; i++)
      for (let p = 0; p < k; p++) {
        const av = A[i * k + p];
        const bRow = p * n;
        const oRow = i * n;
        for (let j = 0; j < n; j++) out[oRow + j] += av * B[bRow + j];
      }
  } else {
    // b is [N,K]: each output is a dot product of two contiguous rows.
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let acc = 0;
        const aRow = i * k;
        const bRow = j * k;
        for (let p = 0; p < k; p++) acc += A[aRow + p] * B[bRow + p];
        out[i * n + j] = acc;
      }
  }
  return new Tensor([m, n], out);
}

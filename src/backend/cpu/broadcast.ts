// NumPy broadcasting for the reference kernels: the output shape of two operands and, per operand, the
// flat source index of every output element.
import { shapeStr, sizeOf } from '../../tensor/index.ts';

/** Output shape of broadcasting a against b, or a clear error naming both shapes. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`broadcast: shapes ${shapeStr(a)} and ${shapeStr(b)} are incompatible`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/**
 * For each element of `outShape` (row-major), the flat index into a tensor of shape `inShape` that
 * broadcasts to it. Simple and allocation-heavy on purpose: this is the oracle, not the fast path.
 */
export function broadcastIndex(
  inShape: readonly number[],
  outShape: readonly number[],
): Int32Array {
  const rank = outShape.length;
  if (inShape.length > rank)
    throw new Error(`broadcast: cannot broadcast ${shapeStr(inShape)} to ${shapeStr(outShape)}`);
  const strides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let i = inShape.length - 1; i >= 0; i--) {
    const o = rank - inShape.length + i;
    if (inShape[i] !== 1 && inShape[i] !== outShape[o]) {
      throw new Error(`broadcast: cannot broadcast ${shapeStr(inShape)} to ${shapeStr(outShape)}`);
    }
    strides[o] = inShape[i] === 1 ? 0 : s;
    s *= inShape[i];
  }
  const n = sizeOf(outShape);
  const index = new Int32Array(n);
  const counter = new Array<number>(rank).fill(0);
  let flat = 0;
  for (let e = 0; e < n; e++) {
    index[e] = flat;
    // Odometer increment over the output shape, tracking the source offset incrementally.
    for (let d = rank - 1; d >= 0; d--) {
      counter[d]++;
      flat += strides[d];
      if (counter[d] < outShape[d]) break;
      flat -= strides[d] * counter[d];
      counter[d] = 0;
    }
  }
  return index;
}

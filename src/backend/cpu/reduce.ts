// Reference reductions and shape-expanding kernels: sum, max, argmax along axes, broadcastTo, oneHot.
import { alloc, shapeStr, sizeOf, Tensor } from '../../tensor/index.ts';
import { broadcastIndex } from './broadcast.ts';

/** Normalizes possibly negative axes and checks them against the rank. */
export function normalizeAxes(axes: readonly number[], rank: number): number[] {
  const out = axes.map((a) => (a < 0 ? a + rank : a));
  for (const a of out)
    if (a < 0 || a >= rank || !Number.isInteger(a))
      throw new Error(`reduce: axis ${a} out of range for rank ${rank}`);
  return [...new Set(out)].sort((p, q) => p - q);
}

/** Output shape after reducing `axes`. */
function reducedShape(shape: readonly number[], axes: number[], keepDims: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepDims) out.push(1);
  });
  return out;
}

export function sum(x: Tensor, axes?: readonly number[], keepDims = false): Tensor {
  const ax = normalizeAxes(axes ?? x.shape.map((_, i) => i), x.rank);
  const shape = reducedShape(x.shape, ax, keepDims);
  const out = alloc(x.dtype, sizeOf(shape));
  // Merge neighbouring axes that are both reduced or both kept: [N, C, H, W] over {0, 2, 3} becomes
  // [N | C | H·W] = (reduced, kept, reduced), so the innermost loop runs over one long contiguous run.
  const dims: { size: number; reduced: boolean }[] = [];
  x.shape.forEach((size, i) => {
    const reduced = ax.includes(i);
    const last = dims[dims.length - 1];
    if (last && last.reduced === reduced) last.size *= size;
    else dims.push({ size, reduced });
  });
  // Input and output strides per merged axis (output stride 0 on reduced axes).
  const inStride: number[] = [],
    outStride: number[] = [];
  for (let d = dims.length - 1, si = 1, so = 1; d >= 0; d--) {
    inStride[d] = si;
    outStride[d] = dims[d].reduced ? 0 : so;
    si *= dims[d].size;
    if (!dims[d].reduced) so *= dims[d].size;
  }
  const X = x.data;
  const walk = (d: number, i0: number, o0: number): void => {
    const n = dims[d].size;
    if (d < dims.length - 1) {
      for (let k = 0; k < n; k++) walk(d + 1, i0 + k * inStride[d], o0 + k * outStride[d]);
    } else if (dims[d].reduced) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += X[i0 + k];
      out[o0] += acc;
    } else {
      for (let k = 0; k < n; k++) out[o0 + k] += X[i0 + k];
    }
  };
  if (x.rank === 0)
    out[0] = X[0]; // a scalar sums to itself
  else if (x.size > 0) walk(0, 0, 0);
  return new Tensor(shape, out);
}

/** Shared walk for max/argmax along one axis: calls back with (outIndex, value, position). */
function alongAxis(x: Tensor, axis: number): { outer: number; len: number; inner: number } {
  const a = normalizeAxes([axis], x.rank)[0];
  const outer = sizeOf(x.shape.slice(0, a));
  const inner = sizeOf(x.shape.slice(a + 1));
  const len = x.shape[a];
  if (len === 0) throw new Error(`max/argmax: axis ${a} of ${shapeStr(x.shape)} is empty`);
  return { outer, len, inner };
}

export function max(x: Tensor, axis: number, keepDims = false): Tensor {
  const { outer, len, inner } = alongAxis(x, axis);
  const a = normalizeAxes([axis], x.rank)[0];
  const out = alloc(x.dtype, outer * inner);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      let best = -Infinity;
      for (let k = 0; k < len; k++) {
        const v = x.data[(o * len + k) * inner + i];
        if (v > best || Number.isNaN(v)) best = v;
        if (Number.isNaN(best)) break;
      }
      out[o * inner + i] = best;
    }
  return new Tensor(reducedShape(x.shape, [a], keepDims), out);
}

export function argmax(x: Tensor, axis: number): Tensor {
  const { outer, len, inner } = alongAxis(x, axis);
  const a = normalizeAxes([axis], x.rank)[0];
  const out = alloc(x.dtype, outer * inner);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      let best = 0;
      // NOTE: strict '>' keeps the lowest index on ties, the prediction rule of docs/design.md §4.
      for (let k = 1; k < len; k++)
        if (x.data[(o * len + k) * inner + i] > x.data[(o * len + best) * inner + i]) best = k;
      out[o * inner + i] = best;
    }
  return new Tensor(reducedShape(x.shape, [a], false), out);
}

export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  const idx = broadcastIndex(x.shape, shape);
  const out = alloc(x.dtype, idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = x.data[idx[i]];
  return new Tensor(shape, out);
}

export function oneHot(indices: Tensor, depth: number): Tensor {
  if (indices.rank !== 1)
    throw new Error(`oneHot: indices must be 1-D, got ${shapeStr(indices.shape)}`);
  const n = indices.size;
  const out = alloc(indices.dtype, n * depth);
  for (let i = 0; i < n; i++) {
    const k = indices.data[i];
    if (!Number.isInteger(k) || k < 0 || k >= depth)
      throw new Error(`oneHot: index ${k} at row ${i} outside [0, ${depth})`);
    out[i * depth + k] = 1;
  }
  return new Tensor([n, depth], out);
}

// Guards the WASM primitives share: whether a tensor is f32 (the kernels' only type), and shape equality.
import type { Tensor } from '../../tensor/index.ts';

export const isF32 = (t: Tensor): t is Tensor & { data: Float32Array } =>
  t.data instanceof Float32Array;
export const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

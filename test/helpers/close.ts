// The norm-wise relative comparison the parity tests share: ‖got − want‖∞ ≤ tol · max(1, ‖want‖∞). Both sides
// round in float32 in different summation orders, so a per-element ratio near a cancellation would measure
// the reference's own rounding noise, not a defect.
import { expect } from 'bun:test';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { RELATIVE_TOLERANCE } from './backends.ts';

export function expectClose(got: Tensor, want: Tensor, tol = RELATIVE_TOLERANCE): void {
  expect(got.shape).toEqual(want.shape);
  expect(got.dtype).toBe(want.dtype);
  let diff = 0,
    scale = 1;
  for (let i = 0; i < want.size; i++) {
    diff = Math.max(diff, Math.abs(got.data[i] - want.data[i]));
    scale = Math.max(scale, Math.abs(want.data[i]));
  }
  expect(diff / scale).toBeLessThanOrEqual(tol);
}

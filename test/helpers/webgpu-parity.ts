// Shared by the WebGPU parity suites (test/backend/webgpu/parity*.test.ts): the device with the suite's skip rule, the
// comparisons (bit-exact, and the project's norm-wise tolerance) and a kernel runner. Tolerances live here.
import { expect, test } from 'bun:test';
import { chooseGpu, describeChoice, type AcquiredGpu } from '../../src/backend/webgpu/device.ts';
import { readEnv } from '../../src/runtime/index.ts';
import { kernelSpecs, type KernelParams } from '../../src/backend/webgpu/kernel-specs.ts';
import {
  runKernel,
  type KernelArrayData,
  type KernelRun,
} from '../../src/backend/webgpu/run-kernel.ts';
import type { AsyncChain, Backend } from '../../src/tensor/index.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { RELATIVE_TOLERANCE } from './backends.ts';
import { serviceMissing } from './services.ts';

/** Hash seeds every seeded kernel is checked with (edges of u32 and the sign-seed XOR itself). */
export const SEEDS = [0, 1, 0x2545f491, 0xdeadbeef, 0xffffffff];

export interface ParityGpu {
  gpu: AcquiredGpu | null;
  /** One line: the adapter taken, or why none. */
  note: string;
}

/**
 * A device for one parity file (each file owns and destroys its own). backend 'auto' ignores a
 * HASHGUARD_BACKEND=cpu in the environment: these suites are about the GPU kernels.
 */
export async function parityGpu(suite: string): Promise<ParityGpu> {
  const choice = await chooseGpu({ allowSoftware: true, backend: 'auto' });
  const note = describeChoice(choice);
  console.log(`${suite}: ${note}`);
  return { gpu: choice.gpu, note };
}

/** What gives a machine without a GPU a WebGPU adapter: Mesa's software rasterizer through EGL. */
export const WEBGPU_ENABLE =
  'install Mesa EGL (Debian: apt-get install libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri) and export EGL_PLATFORM=surfaceless, or run on a GPU host';

/**
 * Without an adapter the suite's tests skip with one line naming what enables them; under CI=true that is
 * a failure instead (CI installs Mesa's EGL), since a silent skip there would hide a broken backend.
 */
export function adapterAvailableTest({ gpu, note }: ParityGpu): void {
  if (!gpu) serviceMissing('WebGPU', WEBGPU_ENABLE, note);
}

/** Index of the first differing element, or -1 (with a length check), for a readable failure. */
function firstMismatch(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Math.min(got.length, want.length);
  for (let i = 0; i < got.length; i++) if (!Object.is(got[i], want[i])) return i;
  return -1;
}

/** Every element identical, -0 and +0 told apart (Object.is). */
export function expectBitExact(what: string, got: ArrayLike<number>, want: ArrayLike<number>) {
  const i = firstMismatch(got, want);
  expect(
    i === -1
      ? 'equal'
      : `${what}: lengths ${got.length}/${want.length}, first difference at ${i}: got ${got[i]}, want ${want[i]}`,
  ).toBe('equal');
}

/** ‖got − want‖∞ / max(1, ‖want‖∞): the quantity the parity tolerance bounds. */
export function relativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return diff / scale;
}

/** ‖got − want‖∞ ≤ tol · max(1, ‖want‖∞), the project's norm-wise parity rule; returns the observed ratio. */
export function expectClose(
  what: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tol = RELATIVE_TOLERANCE,
): number {
  expect(got.length).toBe(want.length);
  const r = relativeError(got, want);
  expect({ what, relative: r < tol ? 'ok' : r }).toEqual({ what, relative: 'ok' });
  return r;
}

/** Per element: |got − want| ≤ tol · max(1, |want|) (for outputs whose entries differ in scale, e.g. softmax). */
export function expectCloseEach(
  what: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tol = RELATIVE_TOLERANCE,
): number {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++)
    worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
  expect({ what, worst: worst < tol ? 'ok' : worst }).toEqual({ what, worst: 'ok' });
  return worst;
}

/** `run(id, params, inputs, extra)`: runs kernel `id` on the suite's device. */
export function kernelRunner(gpu: AcquiredGpu | null) {
  return (
    id: string,
    params: KernelParams,
    inputs: Record<string, KernelArrayData> = {},
    extra: Partial<KernelRun> = {},
  ) => {
    const spec = kernelSpecs[id];
    if (!spec) throw new Error(`no kernel spec '${id}'`);
    return runKernel(gpu!.device, spec, { params, inputs, ...extra });
  };
}

/** A tensor's data as a fresh Float32Array (kernel inputs are f32). */
export const f32 = (t: Tensor) => Float32Array.from(t.data);

/**
 * Wraps `backend.compileAsyncChain` so a test can see what its chains did: `compiled` chains, and per chain call
 * 'gpu' when it completed there or the error's name (ChainFault: Sequential reran the call on the CPU path).
 * Parity with the CPU proves nothing if every call quietly fell back to it.
 */
export function spyChains(backend: Backend): { compiled: number; calls: string[] } {
  const seen = { compiled: 0, calls: [] as string[] };
  const compile = backend.compileAsyncChain!.bind(backend);
  backend.compileAsyncChain = (...args: Parameters<typeof compile>): AsyncChain | null => {
    const c = compile(...args);
    if (!c) return c;
    seen.compiled++;
    const track = <T>(p: Promise<T>) =>
      p.then(
        (v) => (seen.calls.push('gpu'), v),
        (e: Error) => (seen.calls.push(e.name), Promise.reject(e)),
      );
    return {
      forward: (x, keep) => track(c.forward(x, keep)),
      backward: (dy, want) => track(c.backward(dy, want)),
      setParams: (p) => c.setParams(p),
      dispose: () => c.dispose(),
    };
  };
  return seen;
}

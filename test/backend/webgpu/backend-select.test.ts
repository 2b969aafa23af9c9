// Backend selection by HASHGUARD_BACKEND (docs/design.md §7): cpu → CPU kernels; auto → webgpu only on a hardware
// adapter; webgpu → webgpu even on a software adapter, and a clear error without any. The webgpu backend's
// primitives are the CPU ones; describeBackend names the adapter.
import { afterAll, describe, expect, test } from 'bun:test';
import { defaultBackend, describeBackend, selectBackend } from '../../../src/backend/index.ts';
import { openWebGpuBackend, type WebGpuBackend } from '../../../src/backend/webgpu/backend.ts';
import type { GpuChoice } from '../../../src/backend/webgpu/device.ts';
import { adapterAvailableTest, parityGpu } from '../../helpers/webgpu-parity.ts';

const device = await parityGpu('webgpu backend selection');
device.gpu?.device.destroy(); // the skip rule's probe only
const opened: WebGpuBackend[] = [];
afterAll(() => opened.forEach((b) => b.gpu?.device.destroy()));

function withEnv<T>(value: string | undefined, fn: () => Promise<T>): Promise<T> {
  const prev = process.env.HASHGUARD_BACKEND;
  if (value === undefined) delete process.env.HASHGUARD_BACKEND;
  else process.env.HASHGUARD_BACKEND = value;
  return fn().finally(() => {
    if (prev === undefined) delete process.env.HASHGUARD_BACKEND;
    else process.env.HASHGUARD_BACKEND = prev;
  });
}

const noAdapter = async (): Promise<GpuChoice> => ({
  gpu: null,
  notes: ['navigator: no navigator.gpu', 'dawn-core: no adapter'],
});

describe('selectBackend / HASHGUARD_BACKEND', () => {
  test('cpu (argument or environment) is the CPU backend, without touching WebGPU', async () => {
    const s = await selectBackend('cpu');
    expect(s.backend).toBe(defaultBackend);
    expect(s.kind).toBe('cpu');
    const viaEnv = await withEnv('cpu', () => selectBackend());
    expect(viaEnv.backend).toBe(defaultBackend);
    expect(viaEnv.description).toContain('HASHGUARD_BACKEND=cpu');
    expect(describeBackend(defaultBackend)).toBe(`cpu kernels (${defaultBackend.name})`);
  });

  test('without any adapter: auto falls back to CPU, webgpu fails naming what was tried', async () => {
    const auto = await openWebGpuBackend(defaultBackend, 'auto', { choose: noAdapter });
    expect(auto.kind).toBe('cpu');
    expect(auto.description).toContain('dawn-core: no adapter');
    await expect(
      openWebGpuBackend(defaultBackend, 'webgpu', { choose: noAdapter }),
    ).rejects.toThrow(
      /HASHGUARD_BACKEND=webgpu: no usable WebGPU adapter \(navigator: no navigator.gpu; dawn-core: no adapter\)/,
    );
  });

  test('an invalid HASHGUARD_BACKEND is an error', async () => {
    await withEnv('cuda', async () =>
      expect(selectBackend()).rejects.toThrow(/auto, cpu or webgpu/),
    );
  });

  describe('on this machine', () => {
    adapterAvailableTest(device);
    test.skipIf(!device.gpu)(
      'auto takes a hardware adapter only; webgpu takes the software one; describe names it',
      async () => {
        const auto = await withEnv(undefined, () => selectBackend());
        if (device.gpu!.software) {
          expect(auto.kind).toBe('cpu');
          expect(auto.description).toMatch(/refused software adapter/);
        } else {
          expect(auto.kind).toBe('webgpu');
          opened.push(auto.backend as WebGpuBackend);
        }
        const forced = await withEnv('webgpu', () => selectBackend());
        opened.push(forced.backend as WebGpuBackend);
        expect(forced.kind).toBe('webgpu');
        expect(forced.backend.name).toBe('webgpu');
        expect(forced.software).toBe(device.gpu!.software);
        expect(forced.adapter).toEqual(device.gpu!.adapterInfo);
        expect(describeBackend(forced.backend)).toMatch(/^webgpu via \S+: .+; primitives on cpu-/);
        console.log(`HASHGUARD_BACKEND=webgpu: ${describeBackend(forced.backend)}`);
        // Primitives are the CPU backend's own functions.
        expect(forced.backend.matmul).toBe(defaultBackend.matmul);
        expect(typeof forced.backend.compileAsyncChain).toBe('function');
      },
    );
  });
});

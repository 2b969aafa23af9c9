// Device acquisition policy (docs/design.md §7): HASHGUARD_BACKEND, software adapters refused unless allowed,
// Dawn's null backend never used as a compute device. Stub GPUs pin the policy on any machine; the real
// adapter checks follow the parity suite's rule (skip with one line without one; fail under CI=true).
/// <reference types="@webgpu/types" />
import { afterEach, describe, expect, test } from 'bun:test';
import { serviceMissing } from '../../helpers/services.ts';
import { WEBGPU_ENABLE } from '../../helpers/webgpu-parity.ts';
import {
  acquireGpu,
  backendFromEnv,
  chooseGpu,
  classifyAdapter,
  dawnInstance,
  describeChoice,
  tryAdapter,
  type AcquiredGpu,
} from '../../../src/backend/webgpu/device.ts';
import { readEnv } from '../../../src/runtime/index.ts';

const acquired: AcquiredGpu[] = [];
const keep = <T extends AcquiredGpu | null>(g: T): T => {
  if (g) acquired.push(g);
  return g;
};
afterEach(() => {
  for (const g of acquired.splice(0)) g.device.destroy();
});

/** A GPU stub offering one adapter with the given info; counts requestDevice calls and records limits asked for. */
function stubGpu(info: {
  vendor?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}) {
  const calls: { requiredLimits?: Record<string, number> }[] = [];
  const adapter = {
    info: { vendor: '', architecture: '', device: '', description: '', ...info },
    limits: {
      maxComputeInvocationsPerWorkgroup: 1024,
      maxStorageBufferBindingSize: 1 << 30,
      maxTextureDimension2D: 8192,
    },
    requestDevice: async (d: { requiredLimits?: Record<string, number> }) => {
      calls.push(d);
      return { destroy() {} } as unknown as GPUDevice;
    },
  };
  const gpu = { requestAdapter: async () => adapter } as unknown as GPU;
  return { gpu, calls };
}

function withEnv<T>(name: string, value: string | undefined, fn: () => Promise<T>): Promise<T> {
  const prev = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
  return fn().finally(() => {
    if (prev === undefined) delete process.env[name];
    else process.env[name] = prev;
  });
}

describe('adapter classification', () => {
  test.each([
    [{ device: 'null-backend' }, 'null'],
    [{ description: 'null-backend' }, 'null'],
    [
      { device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'OpenGL ES 3.2 Mesa 22.3.6' },
      'software',
    ],
    [{ device: 'llvmpipe (LLVM 19.1.7, 256 bits)' }, 'software'],
    [{ description: 'Mesa lavapipe' }, 'software'],
    [{ vendor: 'google', device: 'SwiftShader Device (Subzero)' }, 'software'],
    [{ description: 'Microsoft Basic Render Driver (software)' }, 'software'],
    [{ vendor: 'nvidia', device: 'NVIDIA H100 80GB HBM3' }, 'hardware'],
    [{ vendor: 'apple', architecture: 'metal-3' }, 'hardware'],
  ] as const)('%o is %s', (info, kind) => {
    expect(
      classifyAdapter({ vendor: '', architecture: '', device: '', description: '', ...info }),
    ).toBe(kind);
  });

  test('an adapter flagged as fallback is software whatever its name', () => {
    expect(
      classifyAdapter({ vendor: 'x', architecture: '', device: 'y', description: '' }, true),
    ).toBe('software');
  });
});

describe('HASHGUARD_BACKEND', () => {
  test('cpu (option or environment) gives null without touching any adapter', async () => {
    expect(await acquireGpu({ backend: 'cpu', allowSoftware: true })).toBeNull();
    await withEnv('HASHGUARD_BACKEND', 'cpu', async () => {
      expect(readEnv('HASHGUARD_BACKEND')).toBe('cpu');
      const choice = await chooseGpu({ allowSoftware: true });
      expect(choice.gpu).toBeNull();
      expect(describeChoice(choice)).toContain('HASHGUARD_BACKEND=cpu');
    });
  });

  test('values are validated; unset means auto', async () => {
    await withEnv('HASHGUARD_BACKEND', undefined, async () =>
      expect(backendFromEnv()).toBe('auto'),
    );
    await withEnv('HASHGUARD_BACKEND', ' WebGPU ', async () =>
      expect(backendFromEnv()).toBe('webgpu'),
    );
    await withEnv('HASHGUARD_BACKEND', 'cuda', async () =>
      expect(() => backendFromEnv()).toThrow(/auto, cpu or webgpu/),
    );
  });
});

describe('policy on stub adapters', () => {
  test('a software adapter is refused by default, without creating a device', async () => {
    const { gpu, calls } = stubGpu({ device: 'llvmpipe (LLVM 15)' });
    const notes: string[] = [];
    expect(await tryAdapter(gpu, 'navigator', false, notes)).toBeNull();
    expect(calls.length).toBe(0);
    expect(notes.join()).toContain('refused software adapter');
  });

  test('allowSoftware and HASHGUARD_BACKEND=webgpu accept it, with limits raised to the adapter', async () => {
    const { gpu, calls } = stubGpu({ device: 'llvmpipe (LLVM 15)' });
    const got = await tryAdapter(gpu, 'navigator', true, []);
    expect(got?.software).toBe(true);
    expect(got?.path).toBe('navigator');
    expect(calls[0].requiredLimits).toEqual({
      maxComputeInvocationsPerWorkgroup: 1024,
      maxStorageBufferBindingSize: 1 << 30,
    });
    const viaEnv = await withEnv('HASHGUARD_BACKEND', 'webgpu', () =>
      chooseGpu({ navigatorGpu: gpu }),
    );
    expect(viaEnv.gpu?.path).toBe('navigator');
    expect(viaEnv.gpu?.software).toBe(true);
  });

  test('a hardware adapter is taken by default, and navigator.gpu comes first', async () => {
    const { gpu } = stubGpu({ vendor: 'nvidia', device: 'NVIDIA H100' });
    const choice = await chooseGpu({ navigatorGpu: gpu, backend: 'auto' });
    expect(choice.gpu?.path).toBe('navigator');
    expect(choice.gpu?.software).toBe(false);
    expect(describeChoice(choice)).toBe('webgpu via navigator: NVIDIA H100');
  });

  test('a null-backend adapter is rejected even with allowSoftware', async () => {
    const { gpu, calls } = stubGpu({ device: 'null-backend' });
    const notes: string[] = [];
    expect(await tryAdapter(gpu, 'navigator', true, notes)).toBeNull();
    expect(calls.length).toBe(0);
    expect(notes).toEqual(['navigator: rejected null-backend adapter']);
  });
});

const probe = await chooseGpu({ allowSoftware: true, backend: 'auto', navigatorGpu: null });
probe.gpu?.device.destroy(); // the skip rule's probe only

describe('on this machine (Dawn)', () => {
  test("Dawn's real null backend is rejected, and acquisition falls through to the next path", async () => {
    const nullGpu = await dawnInstance(['backend=null']);
    if (!nullGpu) throw new Error('the webgpu npm package (Dawn) is not installed');
    const choice = await chooseGpu({ navigatorGpu: nullGpu, allowSoftware: true, backend: 'auto' });
    keep(choice.gpu);
    expect(choice.notes[0]).toBe('navigator: rejected null-backend adapter');
    expect(choice.gpu?.path).not.toBe('navigator');
    expect(choice.gpu?.adapterInfo.device).not.toBe('null-backend');
  });

  if (!probe.gpu) serviceMissing('WebGPU', WEBGPU_ENABLE, describeChoice(probe));
  test.skipIf(!probe.gpu)(
    'the software adapter is refused by default and accepted with allowSoftware',
    async () => {
      const permissive = await chooseGpu({
        allowSoftware: true,
        backend: 'auto',
        navigatorGpu: null,
      });
      keep(permissive.gpu);
      if (!permissive.gpu)
        throw new Error(
          `the WebGPU adapter found a moment ago is gone: ${describeChoice(permissive)}`,
        );
      const strict = await chooseGpu({ backend: 'auto', navigatorGpu: null });
      keep(strict.gpu);
      if (permissive.gpu.software) {
        // This machine (and CI): Dawn OpenGL ES on llvmpipe. The runtime prefers the CPU kernels there.
        expect(strict.gpu?.software ?? false).toBe(false);
        expect(strict.notes.join('\n')).toContain('refused software adapter');
        expect(describeChoice(permissive)).toMatch(
          /^webgpu via dawn-(core|opengles): .*\(software\)$/,
        );
      } else expect(strict.gpu?.software).toBe(false);
    },
  );
});

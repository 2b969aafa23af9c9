/// <reference types="@webgpu/types" />
// The `webgpu` Backend: its synchronous primitives are the CPU ones (the wasm SIMD kernels where available),
// while whole networks go to the GPU as one async chain (gpu-chain.ts) through compileAsyncChain. The primitive
// list is synchronous and WebGPU readback is not, so op-by-op GPU dispatch would block; whole-network chains
// keep activations on the device and pay one readback per forward or backward.
import type { AsyncChain, Backend, ChainLayer, Tensor } from '../../tensor/index.ts';
import {
  backendFromEnv,
  chooseGpu,
  describeChoice,
  type AcquiredGpu,
  type AcquireOptions,
  type BackendChoice,
  type GpuAdapterInfo,
} from './device.ts';
import { compileGpuChain, type GpuChainOptions } from './gpu-chain.ts';

export interface WebGpuBackend extends Backend {
  readonly name: 'webgpu';
  /** The device in use now; null while it is lost (and being rebuilt, or given up on: chains then run on CPU). */
  readonly gpu: AcquiredGpu | null;
  /** Resolves when a rebuild started by a device loss has finished (at once when none is running). */
  settled(): Promise<void>;
}

export interface WebGpuBackendOptions {
  /** Gets a replacement device after a loss (default: none, the backend stays on CPU). */
  reacquire?: () => Promise<AcquiredGpu | null>;
  /** Device losses survived by rebuilding before staying on CPU for good (default 3). */
  maxRebuilds?: number;
  chain?: GpuChainOptions;
}

const label = (g: AcquiredGpu) => {
  const i = g.adapterInfo;
  return (
    [/^\d*$/.test(i.device) ? '' : i.device, i.description].filter(Boolean).join(', ') ||
    i.vendor ||
    'unnamed adapter'
  );
};

/**
 * A webgpu backend on `gpu`, with `cpu` (wasm or reference) for the primitives. On device loss, chains in flight
 * reject with a ChainFault (the model's ChainRunner reruns them on the CPU path), compileAsyncChain returns null (CPU) until a new
 * device from `reacquire` is ready, and after `maxRebuilds` losses the backend stays on CPU.
 */
export function createWebGpuBackend(
  gpu: AcquiredGpu,
  cpu: Backend,
  options: WebGpuBackendOptions = {},
): WebGpuBackend {
  let current: AcquiredGpu | null = null;
  let rebuilds = 0;
  let rebuilding: Promise<void> = Promise.resolve();
  let lastLoss = '';
  const adopt = (g: AcquiredGpu) => {
    current = g;
    g.device.lost.then((info) => {
      if (current !== g) return;
      current = null;
      lastLoss = `${info.reason}: ${info.message || 'no message'}`;
      if (!options.reacquire || rebuilds >= (options.maxRebuilds ?? 3)) return;
      rebuilds++;
      rebuilding = options.reacquire().then(
        (next) => void (next && adopt(next)),
        () => undefined,
      );
    });
  };
  adopt(gpu);
  const backend: WebGpuBackend = {
    ...cpu,
    name: 'webgpu',
    get gpu() {
      return current;
    },
    settled: () => rebuilding,
    compileAsyncChain(
      layers: readonly ChainLayer[],
      params: ReadonlyMap<string, Tensor>,
      inputShape: readonly number[],
    ): AsyncChain | null {
      return current
        ? compileGpuChain(current.device, layers, params, inputShape, options.chain)
        : null;
    },
    describe: () =>
      current
        ? `webgpu via ${current.path}: ${label(current)}${current.software ? ' (software)' : ''}; primitives on ${cpu.name}`
        : `webgpu device lost (${lastLoss}); running on ${cpu.name}`,
  };
  return backend;
}

/** What selectBackend chose, for logs, reports and server metadata. */
export interface BackendSelection {
  backend: Backend;
  /** 'webgpu' or 'cpu': where whole networks run. */
  kind: 'webgpu' | 'cpu';
  adapter: GpuAdapterInfo | null;
  software: boolean;
  /** One line: the adapter taken, or why CPU kernels run. */
  description: string;
}

/**
 * Picks the backend per HASHGUARD_BACKEND (or `choice`): 'cpu' → `cpu`; 'auto' → webgpu on a hardware adapter,
 * else `cpu` (software adapters are slower than the CPU kernels, docs/design.md §7); 'webgpu' → webgpu on any
 * adapter, software included, and an Error naming what was tried when there is none.
 */
export async function openWebGpuBackend(
  cpu: Backend,
  choice: BackendChoice = backendFromEnv(),
  options: AcquireOptions & WebGpuBackendOptions & { choose?: typeof chooseGpu } = {},
): Promise<BackendSelection> {
  const onCpu = (description: string): BackendSelection => ({
    backend: cpu,
    kind: 'cpu',
    adapter: null,
    software: false,
    description,
  });
  if (choice === 'cpu') return onCpu(`cpu kernels (${cpu.name}): HASHGUARD_BACKEND=cpu`);
  const acquire = { ...options, backend: choice };
  const choose = options.choose ?? chooseGpu; // replaceable so tests can play a machine without an adapter
  const found = await choose(acquire);
  if (!found.gpu) {
    if (choice === 'webgpu')
      throw new Error(
        `HASHGUARD_BACKEND=webgpu: no usable WebGPU adapter (${found.notes.join('; ')})`,
      );
    return onCpu(
      `cpu kernels (${cpu.name}): ${describeChoice(found).replace(/^cpu kernels: /, '')}`,
    );
  }
  const reacquire = options.reacquire ?? (async () => (await choose(acquire)).gpu);
  const backend = createWebGpuBackend(found.gpu, cpu, { ...options, reacquire });
  return {
    backend,
    kind: 'webgpu',
    adapter: found.gpu.adapterInfo,
    software: found.gpu.software,
    description: backend.describe!(),
  };
}

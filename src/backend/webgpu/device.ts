/// <reference types="@webgpu/types" />
// WebGPU device acquisition in docs/design.md §7 order: navigator.gpu → Dawn core → Dawn OpenGL ES (compat) → null
// (the caller uses CPU kernels). The only webgpu module that reads navigator (and, through src/runtime, the environment).
import { readEnv } from '../../runtime/index.ts';

/** Which route produced the device. */
export type GpuPath = 'navigator' | 'dawn-core' | 'dawn-opengles';

/** Adapter identity as reported by the implementation (strings may be empty). */
export interface GpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

export interface AcquiredGpu {
  device: GPUDevice;
  adapterInfo: GpuAdapterInfo;
  /** A CPU rasterizer (llvmpipe, lavapipe, SwiftShader): right for tests, slower than the CPU kernels. */
  software: boolean;
  path: GpuPath;
}

export interface AcquireOptions {
  /** Accept a software adapter (default false: the runtime prefers CPU kernels there). */
  allowSoftware?: boolean;
  /** 'auto' | 'cpu' | 'webgpu'; defaults to env HASHGUARD_BACKEND, then 'auto'. 'webgpu' accepts software adapters. */
  backend?: BackendChoice;
  /** Replaces globalThis.navigator.gpu (null: skip that path). For tests and embedders. */
  navigatorGpu?: GPU | null;
}

export type BackendChoice = 'auto' | 'cpu' | 'webgpu';

/** The outcome with its reasons, for `describeChoice`. */
export interface GpuChoice {
  gpu: AcquiredGpu | null;
  /** One line per path tried: what it found and why it was taken or passed over. */
  notes: string[];
}

/** How an adapter is treated: 'null' is Dawn's no-op backend (never a compute device). */
export type AdapterKind = 'hardware' | 'software' | 'null';

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|softpipe|software/i;

/** Classifies an adapter from its info (and the fallback flag where the implementation sets it). */
export function classifyAdapter(info: GpuAdapterInfo, isFallbackAdapter = false): AdapterKind {
  if (info.device === 'null-backend' || info.description === 'null-backend') return 'null';
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`;
  return isFallbackAdapter || SOFTWARE.test(text) ? 'software' : 'hardware';
}

/** HASHGUARD_BACKEND, validated; 'auto' when unset. */
export function backendFromEnv(): BackendChoice {
  const v = readEnv('HASHGUARD_BACKEND')?.trim().toLowerCase();
  if (!v) return 'auto';
  if (v === 'auto' || v === 'cpu' || v === 'webgpu') return v;
  throw new Error(`HASHGUARD_BACKEND must be auto, cpu or webgpu, got '${v}'`);
}

type DawnModule = { create(flags: string[]): GPU };
let dawn: Promise<DawnModule | null> | undefined;

/**
 * Dawn's node binding (npm `webgpu`), or null where it is not installed or its native file does not load.
 * Optional at run time, so a dynamic import; loaded once.
 */
export function loadDawn(): Promise<DawnModule | null> {
  dawn ??= import('webgpu').then(
    (m) => m as DawnModule,
    () => null,
  );
  return dawn;
}

// One Dawn instance per flag set: instances are costly and adapters from them stay valid.
const instances = new Map<string, GPU>();

/** A Dawn GPU instance with the given toggles (e.g. ['backend=null']), or null without Dawn. */
export async function dawnInstance(flags: readonly string[]): Promise<GPU | null> {
  const key = flags.join(' ');
  const cached = instances.get(key);
  if (cached) return cached;
  const mod = await loadDawn();
  if (!mod) return null;
  try {
    const gpu = mod.create([...flags]);
    instances.set(key, gpu);
    return gpu;
  } catch {
    return null;
  }
}

// Limits worth raising to what the adapter offers: compat mode defaults to 128 invocations per workgroup,
// and every mode caps storage bindings at 128 MiB unless asked.
const RAISED_LIMITS = [
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBufferBindingSize',
  'maxStorageBuffersPerShaderStage',
  'maxBufferSize',
] as const;

function raisedLimits(adapter: GPUAdapter): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of RAISED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number | undefined>)[name];
    if (typeof v === 'number') out[name] = v;
  }
  return out;
}

function infoOf(adapter: GPUAdapter): { info: GpuAdapterInfo; fallback: boolean } {
  const i = adapter.info as Partial<GPUAdapterInfo & { isFallbackAdapter: boolean }> | undefined;
  const info = {
    vendor: i?.vendor ?? '',
    architecture: i?.architecture ?? '',
    device: i?.device ?? '',
    description: i?.description ?? '',
  };
  return { info, fallback: i?.isFallbackAdapter === true };
}

// Deno (wgpu) reports a numeric PCI id as `device` and the name in `description`: show names only.
const label = (info: GpuAdapterInfo) =>
  [/^\d*$/.test(info.device) ? '' : info.device, info.description].filter(Boolean).join(', ') ||
  info.vendor ||
  'unnamed adapter';

/**
 * Tries one GPU instance: an adapter (each of `requests` in turn until one gives an adapter), its
 * classification, then a device with raised limits. Returns the device or null, and notes what happened.
 */
export async function tryAdapter(
  gpu: GPU,
  path: GpuPath,
  allowSoftware: boolean,
  notes: string[],
  requests: readonly GPURequestAdapterOptions[] = [{}],
): Promise<AcquiredGpu | null> {
  let adapter: GPUAdapter | null = null;
  for (const request of requests) {
    try {
      adapter = await gpu.requestAdapter(request);
    } catch (e) {
      notes.push(`${path}: requestAdapter failed: ${(e as Error).message}`);
    }
    if (adapter) break;
  }
  if (!adapter) {
    notes.push(`${path}: no adapter`);
    return null;
  }
  const { info, fallback } = infoOf(adapter);
  const kind = classifyAdapter(info, fallback);
  if (kind === 'null') {
    // Dawn's null backend validates shaders but its dispatches do nothing: never a compute device.
    notes.push(`${path}: rejected null-backend adapter`);
    return null;
  }
  if (kind === 'software' && !allowSoftware) {
    notes.push(
      `${path}: refused software adapter ${label(info)} (CPU kernels are faster; allowSoftware or HASHGUARD_BACKEND=webgpu accepts it)`,
    );
    return null;
  }
  try {
    const device = await adapter.requestDevice({ requiredLimits: raisedLimits(adapter) });
    notes.push(`${path}: using ${kind} adapter ${label(info)}`);
    return { device, adapterInfo: info, software: kind === 'software', path };
  } catch (e) {
    notes.push(`${path}: requestDevice failed on ${label(info)}: ${(e as Error).message}`);
    return null;
  }
}

/** Acquisition with the notes that explain it (see `acquireGpu`). */
export async function chooseGpu(options: AcquireOptions = {}): Promise<GpuChoice> {
  const notes: string[] = [];
  const backend = options.backend ?? backendFromEnv();
  if (backend === 'cpu') return { gpu: null, notes: ['HASHGUARD_BACKEND=cpu'] };
  const allowSoftware = options.allowSoftware === true || backend === 'webgpu';

  const nav =
    options.navigatorGpu !== undefined
      ? options.navigatorGpu
      : ((globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu ?? null);
  if (nav) {
    // Browsers on older hardware offer only a compatibility-mode adapter, and only when asked for one.
    const got = await tryAdapter(nav, 'navigator', allowSoftware, notes, [
      {},
      { featureLevel: 'compatibility' },
    ]);
    if (got) return { gpu: got, notes };
  } else notes.push('navigator: no navigator.gpu');

  const core = await dawnInstance([]);
  if (!core) {
    notes.push('dawn: npm package webgpu not installed or not loadable');
    return { gpu: null, notes };
  }
  const fromCore = await tryAdapter(core, 'dawn-core', allowSoftware, notes);
  if (fromCore) return { gpu: fromCore, notes };

  // NOTE: needs EGL_PLATFORM=surfaceless in the real process environment on headless machines (see docs/design.md §7).
  const gles = await dawnInstance(['backend=opengles']);
  const fromGles =
    gles &&
    (await tryAdapter(gles, 'dawn-opengles', allowSoftware, notes, [
      { featureLevel: 'compatibility' },
    ]));
  if (notes.at(-1) === 'dawn-opengles: no adapter')
    notes.push('(headless Linux needs EGL_PLATFORM=surfaceless in the real process environment)');
  return { gpu: fromGles ?? null, notes };
}

/**
 * A WebGPU device, or null when the caller should use the CPU kernels: forced by HASHGUARD_BACKEND=cpu, no
 * adapter, only Dawn's null backend, or only a software adapter without `allowSoftware` / HASHGUARD_BACKEND=webgpu.
 */
export async function acquireGpu(options: AcquireOptions = {}): Promise<AcquiredGpu | null> {
  return (await chooseGpu(options)).gpu;
}

/** One line for logs and reports: the device taken, or why CPU kernels run. */
export function describeChoice(choice: GpuChoice): string {
  const g = choice.gpu;
  if (g) return `webgpu via ${g.path}: ${label(g.adapterInfo)}${g.software ? ' (software)' : ''}`;
  return `cpu kernels: ${choice.notes.join('; ') || 'no WebGPU'}`;
}

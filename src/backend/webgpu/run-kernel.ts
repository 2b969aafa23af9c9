/// <reference types="@webgpu/types" />
// Runs one WGSL kernel from its spec: pipeline (cached per device, id and override constants), params uniform,
// storage buffers, dispatch, and readback through mapAsync. One submit per call: simple, not yet fast.
import type { KernelArray, KernelParams, KernelSpec, ScalarType } from './kernel-specs.ts';
import { loadKernelSource } from './shader-loader.ts';

// NOTE: numeric flags, not the GPUBufferUsage/GPUShaderStage/GPUMapMode globals: Dawn's node binding does not
// install those globals in Bun or Node. Values are fixed by the WebGPU spec; the chain (gpu-chain.ts,
// chain-buffers.ts) uses these too.
export const USAGE = {
  MAP_READ: 0x1,
  COPY_SRC: 0x4,
  COPY_DST: 0x8,
  UNIFORM: 0x40,
  STORAGE: 0x80,
} as const;
const STAGE_COMPUTE = 0x4;
/** GPUMapMode.READ. */
export const MAP_READ = 0x1;

/** Bytes of a buffer of `n` 4-byte elements: zero-sized bindings are invalid, so every buffer holds at least one. */
export const bytes = (n: number) => Math.max(4, n * 4);

export type KernelArrayData = Float32Array | Uint32Array;

export interface KernelRun {
  params: KernelParams;
  /** One typed array per spec input (Float32Array for f32, Uint32Array for u32). */
  inputs?: Record<string, KernelArrayData>;
  /** Override constants; WG defaults to the spec's workgroup size. */
  constants?: Record<string, number>;
  /** Caps workgroups per grid dimension below the device limit, so tests can exercise the wrap into y. */
  maxWorkgroupsPerDimension?: number;
}

interface CachedPipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

// One cache per device: pipelines belong to the device that built them and die with it.
const pipelineCache = new WeakMap<GPUDevice, Map<string, Promise<CachedPipeline>>>();

function bindGroupLayout(device: GPUDevice, spec: KernelSpec): GPUBindGroupLayout {
  const entries: GPUBindGroupLayoutEntry[] = [
    { binding: 0, visibility: STAGE_COMPUTE, buffer: { type: 'uniform' } },
  ];
  spec.inputs.forEach((_, k) =>
    entries.push({
      binding: 1 + k,
      visibility: STAGE_COMPUTE,
      buffer: { type: 'read-only-storage' },
    }),
  );
  spec.outputs.forEach((_, k) =>
    entries.push({
      binding: 1 + spec.inputs.length + k,
      visibility: STAGE_COMPUTE,
      buffer: { type: 'storage' },
    }),
  );
  return device.createBindGroupLayout({ label: spec.id, entries });
}

/** The compute pipeline of `spec` with `constants`, built once per device. Rejects with the compiler's message. */
export function getPipeline(
  device: GPUDevice,
  spec: KernelSpec,
  constants: Record<string, number>,
): Promise<CachedPipeline> {
  let cache = pipelineCache.get(device);
  if (!cache) pipelineCache.set(device, (cache = new Map()));
  const key = `${spec.id}|${JSON.stringify(Object.entries(constants).sort())}`;
  let entry = cache.get(key);
  if (!entry) {
    entry = (async () => {
      const module = device.createShaderModule({
        label: spec.id,
        code: loadKernelSource(spec.id).code,
      });
      const layout = bindGroupLayout(device, spec);
      const pipeline = await device.createComputePipelineAsync({
        label: spec.id,
        layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
        compute: { module, entryPoint: 'main', constants },
      });
      return { pipeline, layout };
    })();
    // A failed build is not cached, so a caller can retry (e.g. after fixing constants).
    entry.catch(() => cache.delete(key));
    cache.set(key, entry);
  }
  return entry;
}

/** The params uniform: each field 4 bytes little-endian in struct order, padded to 16 bytes. */
export function packParams(spec: KernelSpec, params: KernelParams): ArrayBuffer {
  const buf = new ArrayBuffer(Math.max(16, Math.ceil((spec.params.length * 4) / 16) * 16));
  const view = new DataView(buf);
  spec.params.forEach(({ name, type }, k) => {
    const v = params[name];
    if (typeof v !== 'number') throw new Error(`${spec.id}: param '${name}' missing`);
    if (type === 'u32') {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
        throw new Error(`${spec.id}: param '${name}' must be a u32, got ${v}`);
      view.setUint32(k * 4, v, true);
    } else view.setFloat32(k * 4, v, true);
  });
  return buf;
}

/** Workgroup grid for `invocations` threads: x up to the per-dimension limit, the rest wrapped into y. */
export function dispatchGrid(
  invocations: number,
  workgroupSize: number,
  maxPerDimension: number,
): [number, number] {
  const groups = Math.ceil(invocations / workgroupSize);
  const x = Math.min(groups, maxPerDimension);
  const y = x === 0 ? 0 : Math.ceil(groups / x);
  if (y > maxPerDimension)
    throw new Error(`dispatch of ${invocations} invocations exceeds the device's grid`);
  return [x, y];
}

const alloc = (type: ScalarType, n: number): KernelArrayData =>
  type === 'u32' ? new Uint32Array(n) : new Float32Array(n);

function checkInput(
  spec: KernelSpec,
  a: KernelArray,
  data: KernelArrayData | undefined,
  params: KernelParams,
): KernelArrayData {
  if (!data) throw new Error(`${spec.id}: input '${a.name}' missing`);
  const want = a.type === 'u32' ? Uint32Array : Float32Array;
  if (!(data instanceof want))
    throw new Error(`${spec.id}: input '${a.name}' must be a ${want.name}`);
  // WGSL clamps out-of-bounds reads instead of failing, so a short array would give wrong numbers silently.
  const n = a.length(params);
  if (data.length !== n)
    throw new Error(`${spec.id}: input '${a.name}' needs ${n} elements, got ${data.length}`);
  return data;
}

/** Runs `spec` once and returns every output as a fresh typed array. Throws on validation errors. */
export async function runKernel(
  device: GPUDevice,
  spec: KernelSpec,
  run: KernelRun,
): Promise<Record<string, KernelArrayData>> {
  const { params } = run;
  const inputs = spec.inputs.map((a) => checkInput(spec, a, run.inputs?.[a.name], params));
  const lengths = spec.outputs.map((a) => a.length(params));
  const invocations = spec.invocations(params);
  const result: Record<string, KernelArrayData> = {};
  if (invocations === 0) {
    spec.outputs.forEach((a, k) => (result[a.name] = alloc(a.type, lengths[k])));
    return result;
  }
  const constants = { WG: spec.workgroupSize, ...run.constants };
  const { pipeline, layout } = await getPipeline(device, spec, constants);

  const owned: GPUBuffer[] = [];
  const buffer = (size: number, usage: number) => {
    const b = device.createBuffer({ size, usage });
    owned.push(b);
    return b;
  };
  const packed = packParams(spec, params);
  // Every call in the scope is checked at the pop; a throw before it still pops (finally), so scopes never leak.
  device.pushErrorScope('validation');
  let scoped = true;
  try {
    const uniform = buffer(packed.byteLength, USAGE.UNIFORM | USAGE.COPY_DST);
    device.queue.writeBuffer(uniform, 0, packed);
    const inBufs = inputs.map((data) => {
      const b = buffer(bytes(data.length), USAGE.STORAGE | USAGE.COPY_DST);
      if (data.length > 0) device.queue.writeBuffer(b, 0, data);
      return b;
    });
    const outBufs = lengths.map((n) => buffer(bytes(n), USAGE.STORAGE | USAGE.COPY_SRC));
    const readBufs = lengths.map((n) => buffer(bytes(n), USAGE.MAP_READ | USAGE.COPY_DST));
    const bindGroup = device.createBindGroup({
      layout,
      entries: [uniform, ...inBufs, ...outBufs].map((b, binding) => ({
        binding,
        resource: { buffer: b },
      })),
    });

    const [x, y] = dispatchGrid(
      invocations,
      constants.WG,
      Math.min(
        device.limits.maxComputeWorkgroupsPerDimension,
        run.maxWorkgroupsPerDimension ?? Infinity,
      ),
    );
    const encoder = device.createCommandEncoder({ label: spec.id });
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y);
    pass.end();
    outBufs.forEach((b, k) => encoder.copyBufferToBuffer(b, 0, readBufs[k], 0, bytes(lengths[k])));
    device.queue.submit([encoder.finish()]);

    scoped = false;
    const error = await device.popErrorScope();
    if (error) throw new Error(`${spec.id}: ${error.message}`);
    await Promise.all(readBufs.map((b) => b.mapAsync(MAP_READ)));
    spec.outputs.forEach((a, k) => {
      const out = alloc(a.type, lengths[k]);
      out.set(
        new (a.type === 'u32' ? Uint32Array : Float32Array)(
          readBufs[k].getMappedRange(),
          0,
          lengths[k],
        ),
      );
      readBufs[k].unmap();
      result[a.name] = out;
    });
    return result;
  } finally {
    if (scoped) device.popErrorScope().catch(() => undefined);
    for (const b of owned) b.destroy();
  }
}

// What a benchmark result records about where it ran: the CPU (model and flags from /proc/cpuinfo), cores, memory,
// load average, and the versions of every runtime measured (Bun, Node, onnxruntime, and PyTorch's own report).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { machineInfo } from '../src/cli/index.ts';

/** The first processor's `model name` and `flags` lines of /proc/cpuinfo (null off Linux). */
export function cpuInfo(): { model: string; flags: string[] } | null {
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    const field = (name: string) =>
      new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
    return { model: field('model name'), flags: field('flags').split(/\s+/).filter(Boolean) };
  } catch {
    return null;
  }
}

/** `node --version` of the Node on PATH (Bun reports a Node compatibility version of its own). */
function nodeOnPath(): string | null {
  const r = spawnSync('node', ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? r.stdout.trim().replace(/^v/, '') : null;
}

const round2 = (v: number) => Math.round(v * 100) / 100;

/** The machine block of a bench result; `versions` adds the peers' versions (onnxruntime, torch, python). */
export function machineFacts(versions: Record<string, string | null>) {
  const m = machineInfo();
  const cpu = cpuInfo();
  const bun = (globalThis as { Bun?: { version: string } }).Bun?.version ?? null;
  return {
    ...m,
    cpu: cpu?.model || m.cpu,
    cpuFlags: cpu?.flags ?? [],
    // The SIMD the peers can use here: onnxruntime and PyTorch pick AVX2/AVX-512 kernels, wasm has 128-bit lanes.
    simd: (cpu?.flags ?? []).filter((f) =>
      /^(sse4_2|avx|avx2|fma|avx512f|avx512_vnni|avx512_bf16)$/.test(f),
    ),
    loadAverage: loadavg().map(round2),
    versions: {
      bun,
      node: nodeOnPath(),
      nodeCompat: process.versions.node ?? null,
      ...versions,
    },
  };
}

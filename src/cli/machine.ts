// Facts about the running machine and runtime, recorded in provenance and benchmark results.
import { cpus, totalmem } from 'node:os';

/** Runtime name and version: bun, deno or node. */
export function runtimeName(): string {
  const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } } };
  if (g.Bun) return `bun ${g.Bun.version}`;
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  return `node ${process.version}`;
}

export function machineInfo(): { cpu: string; cores: number; memoryGiB: number; runtime: string; platform: string } {
  const c = cpus();
  return {
    cpu: c[0]?.model?.trim() ?? 'unknown',
    cores: c.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    runtime: runtimeName(),
    platform: `${process.platform}-${process.arch}`,
  };
}

// Facts about the running machine and runtime, recorded in provenance and benchmark results.
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { platformName, runtimeName } from '../runtime/index.ts';

export { runtimeName };

export function machineInfo(): {
  cpu: string;
  cores: number;
  memoryGiB: number;
  runtime: string;
  platform: string;
} {
  const c = cpus();
  return {
    cpu: c[0]?.model?.trim() ?? 'unknown',
    cores: c.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    runtime: runtimeName(),
    platform: platformName(),
  };
}

/**
 * The git commit the code ran from, and whether the work tree had uncommitted changes, so a benchmark result
 * names the code it measured; null outside a git checkout.
 */
export function sourceRevision(): { commit: string; dirty: boolean } | null {
  try {
    const run = (args: string[]) => spawnSync('git', args, { encoding: 'utf8', timeout: 5000 });
    const head = run(['rev-parse', 'HEAD']);
    if (head.status !== 0) return null;
    const status = run(['status', '--porcelain', '--untracked-files=no']);
    return {
      commit: head.stdout.trim(),
      dirty: status.status === 0 ? status.stdout.trim() !== '' : true,
    };
  } catch {
    return null;
  }
}

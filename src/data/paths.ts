// Where data lives by default: the repository root (found from this file's location, so any cwd works) and
// environment overrides (read through src/runtime).
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { readEnv } from '../runtime/index.ts';

/** Absolute path of the repository root (two levels above src/data/). */
export function projectRoot(): string {
  return fileURLToPath(new URL('../../', import.meta.url).href);
}

/** The first of: an explicit option, a non-empty environment variable, a fallback. */
export function resolveSetting(
  option: string | undefined,
  envName: string,
  fallback: () => string,
): string {
  if (option !== undefined && option !== '') return option;
  const fromEnv = readEnv(envName);
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return fallback();
}

/** Cache folder for unpacked datasets: $HASHGUARD_CACHE_DIR, else `<repo>/.cache` (gitignored). */
export function cacheDir(option?: string): string {
  return resolveSetting(option, 'HASHGUARD_CACHE_DIR', () => join(projectRoot(), '.cache'));
}

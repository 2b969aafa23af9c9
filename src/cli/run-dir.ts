// Where a command writes when no --out is given: a folder of its own under runs/ in the working directory (git-
// ignored), named by the command, the model and the UTC start time; never an existing one, so nothing is replaced.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Creates and returns runs/<prefix>-<YYYYMMDDTHHMMSSZ>, or with -2, -3, … when that exists (two runs in one
 * second): mkdir without `recursive` fails on an existing folder, so the name is claimed atomically.
 */
export function newRunDir(prefix: string, now = new Date(), root = 'runs'): string {
  mkdirSync(root, { recursive: true });
  const stamp = now
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[-:]/g, '');
  const safe = prefix.replace(/[^\w.-]/g, '_');
  for (let n = 1; ; n++) {
    const dir = join(root, `${safe}-${stamp}${n > 1 ? `-${n}` : ''}`);
    try {
      mkdirSync(dir);
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

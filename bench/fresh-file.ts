// Result files are never overwritten: a bench names its result by date, and a second run on the same day writes
// <name>-2.json (then -3, …) beside the first instead of replacing a file that may already be committed.
import { existsSync } from 'node:fs';

/** `path` if nothing is there yet, else the first free `<stem>-N<ext>` (N = 2, 3, …). */
export function freshFile(path: string): string {
  if (!existsSync(path)) return path;
  const dot = path.lastIndexOf('.');
  const [stem, ext] =
    dot > path.lastIndexOf('/') ? [path.slice(0, dot), path.slice(dot)] : [path, ''];
  for (let n = 2; ; n++) {
    const candidate = `${stem}-${n}${ext}`;
    if (!existsSync(candidate)) return candidate;
  }
}

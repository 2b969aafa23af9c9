// Never overwrite silently: train, convert, harden and audit check their target before any work starts and refuse
// one that already holds a model or report unless --force was given (committed models and reports live there).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST_FILE } from '../nn/index.ts';

/** The refusal: one line naming the target and --force; main.ts prints it as `error: …` with exit code 1. */
export class OutputExists extends Error {}

/** Refuses `dir` when it holds a model (its model.json), unless `force`. A directory without one is fine. */
export function guardModelDir(dir: string, force: boolean): void {
  const manifest = join(dir, MANIFEST_FILE);
  if (!force && existsSync(manifest))
    throw new OutputExists(
      `${dir} already holds a model (${manifest}); pass --force to replace it`,
    );
}

/** Refuses the report `<base><ext>` for any ext that already exists, unless `force`. */
export function guardReport(base: string, exts: readonly string[], force: boolean): void {
  const existing = exts.map((e) => `${base}${e}`).filter((f) => existsSync(f));
  if (!force && existing.length)
    throw new OutputExists(
      `${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''}; pass --force to replace ${existing.length === 1 ? 'it' : 'them'}`,
    );
}

// Reads WGSL files from the repository's shaders/ folder (node:fs, which Bun, Deno and Node all provide) and
// hands them to the pure assembler. The one place shader text enters the program.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { assembleSource, type AssembledSource } from './shader-source.ts';

/** Absolute path of shaders/ (src/backend/webgpu → repository root). */
export const SHADER_DIR = fileURLToPath(new URL('../../../shaders/', import.meta.url));

const texts = new Map<string, string>();

/** Text of a file under shaders/, e.g. 'dense.wgsl' or 'lib/hash.wgsl' (cached: shaders do not change at run time). */
export function readShader(relPath: string): string {
  let t = texts.get(relPath);
  if (t === undefined) {
    t = readFileSync(SHADER_DIR + relPath, 'utf8');
    texts.set(relPath, t);
  }
  return t;
}

/** A kernel's final source: shaders/<id>.wgsl with the libs it requires in front. */
export function loadKernelSource(id: string): AssembledSource {
  return assembleSource(`${id}.wgsl`, readShader(`${id}.wgsl`), (stem) => readShader(`lib/${stem}.wgsl`));
}

/** A lib alone (with the libs it requires), for validation. */
export function loadLibSource(stem: string): AssembledSource {
  return assembleSource(`lib/${stem}.wgsl`, readShader(`lib/${stem}.wgsl`), (s) => readShader(`lib/${s}.wgsl`));
}

const stems = (dir: string) =>
  readdirSync(SHADER_DIR + dir)
    .filter((f) => f.endsWith('.wgsl'))
    .map((f) => f.slice(0, -'.wgsl'.length))
    .sort();

/** Stems of every kernel file (shaders/*.wgsl). */
export function kernelIds(): string[] {
  return stems('');
}

/** Stems of every lib file (shaders/lib/*.wgsl). */
export function libIds(): string[] {
  return stems('lib');
}

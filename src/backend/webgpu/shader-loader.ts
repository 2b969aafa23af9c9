// Hands the WGSL files of the repository's shaders/ folder, embedded by scripts/build-shaders.ts, to the pure
// assembler: the one place shader text enters the program, with no file access (browsers, edge workers).
import { assembleSource, type AssembledSource } from './shader-source.ts';
import { SHADER_FILES } from './shaders-wgsl.ts';

/** Text of a file under shaders/, e.g. 'dense.wgsl' or 'lib/hash.wgsl'. */
export function readShader(relPath: string): string {
  const t = SHADER_FILES[relPath];
  if (t === undefined)
    throw new Error(
      `no shader shaders/${relPath} (the embedded set is rebuilt by scripts/build-shaders.ts)`,
    );
  return t;
}

/** A kernel's final source: shaders/<id>.wgsl with the libs it requires in front. */
export function loadKernelSource(id: string): AssembledSource {
  return assembleSource(`${id}.wgsl`, readShader(`${id}.wgsl`), (stem) =>
    readShader(`lib/${stem}.wgsl`),
  );
}

/** A lib alone (with the libs it requires), for validation. */
export function loadLibSource(stem: string): AssembledSource {
  return assembleSource(`lib/${stem}.wgsl`, readShader(`lib/${stem}.wgsl`), (s) =>
    readShader(`lib/${s}.wgsl`),
  );
}

const stems = (dir: string) =>
  Object.keys(SHADER_FILES)
    .filter((f) => (dir ? f.startsWith(`${dir}/`) : !f.includes('/')))
    .map((f) => f.slice(dir ? dir.length + 1 : 0, -'.wgsl'.length))
    .sort();

/** Stems of every kernel file (shaders/*.wgsl). */
export function kernelIds(): string[] {
  return stems('');
}

/** Stems of every lib file (shaders/lib/*.wgsl). */
export function libIds(): string[] {
  return stems('lib');
}

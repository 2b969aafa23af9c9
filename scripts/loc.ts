// Size check: lines per module of src (and of the WGSL and WAT kernel sources), and a failure for any source
// file over 600 lines, so no file grows into a second module. Run by CI.  bun scripts/loc.ts
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { scriptFlags } from '../src/cli/index.ts';

export const MAX_LINES = 600;
const ROOT = join(import.meta.dir, '..');
/** Generated from other committed files (each rebuilt and compared by a test): not hand-written, not counted. */
const GENERATED = new Set([
  'src/backend/wasm/kernels-wasm.ts',
  'src/backend/webgpu/shaders-wgsl.ts',
  'src/serve/embedded/default-model.ts',
]);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.(ts|wat|wgsl)$/.test(p) ? [p] : [];
  });
}
const lines = (p: string) =>
  readFileSync(p, 'utf8').split('\n').length - (readFileSync(p, 'utf8').endsWith('\n') ? 1 : 0);

/** Every counted source file with its line count, and the module (src folder, or shaders) it belongs to. */
export function measure(): { file: string; module: string; lines: number }[] {
  return [...files(join(ROOT, 'src')), ...files(join(ROOT, 'shaders'))]
    .map((p) => relative(ROOT, p).split(sep).join('/'))
    .filter((f) => !GENERATED.has(f))
    .map((file) => {
      const parts = file.split('/');
      const module =
        parts[0] === 'shaders' ? 'shaders' : parts.length > 2 ? parts[1] : `(src/${parts[1]})`;
      return { file, module, lines: lines(join(ROOT, file)) };
    });
}

if (import.meta.main) {
  scriptFlags(
    `usage: bun scripts/loc.ts   (lines per module; exits 1 when a source file has more than ${MAX_LINES} lines; no flags)`,
  );
  const all = measure();
  const byModule = new Map<string, { files: number; lines: number }>();
  for (const f of all) {
    const m = byModule.get(f.module) ?? { files: 0, lines: 0 };
    byModule.set(f.module, { files: m.files + 1, lines: m.lines + f.lines });
  }
  for (const [m, { files: n, lines: l }] of [...byModule].sort((a, b) => b[1].lines - a[1].lines))
    console.log(`${m.padEnd(16)} ${String(l).padStart(6)} lines in ${n} files`);
  const src = all.filter((f) => f.file.startsWith('src/')).reduce((s, f) => s + f.lines, 0);
  console.log(`${'src'.padEnd(16)} ${String(src).padStart(6)} lines in all`);
  const over = all.filter((f) => f.lines > MAX_LINES);
  if (over.length) {
    console.error(
      `files over ${MAX_LINES} lines: ${over.map((f) => `${f.file} (${f.lines})`).join(', ')}`,
    );
    process.exit(1);
  }
  console.log(
    `largest file: ${all.reduce((a, b) => (b.lines > a.lines ? b : a)).file} (${Math.max(...all.map((f) => f.lines))} lines; limit ${MAX_LINES})`,
  );
}

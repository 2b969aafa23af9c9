// The layering docs/architecture.md draws, held against the code: every import from another folder goes through
// that folder's door and is allowed by the import map; the pure core (src/index.ts) reaches no node: or bun:
// import, reads runtime globals only through src/runtime, and bundles for the browser; only src/runtime and the
// server entries read process, Bun or Deno.
import { describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { MAX_LINES, measure } from '../scripts/loc.ts';

const ROOT = join(import.meta.dir, '..');
const SRC = join(ROOT, 'src');
const transpiler = new Bun.Transpiler({ loader: 'ts' });

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}
const rel = (p: string) => relative(SRC, p).split(sep).join('/');
/** The top folder of a src file, or '(src/index.ts)' / '(src/node.ts)' for the two package doors. */
const folderOf = (p: string) => (rel(p).includes('/') ? rel(p).split('/')[0] : `(src/${rel(p)})`);

/** Imports that survive compilation (type-only imports are erased): static, re-exports and dynamic. */
function importsOf(file: string): string[] {
  return transpiler.scanImports(readFileSync(file, 'utf8')).map((i) => i.path);
}
/** Every relative import of a file, type-only ones included (they bind folders to each other just the same). */
function allRelativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from\s*|import\s*\(\s*)'(\.[^']+)'/g)].map((m) => m[1]);
  return specs.map((s) => normalize(join(dirname(file), s)));
}

function importMap(): Map<string, Set<string>> {
  const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
  const start = doc.indexOf('## Import map');
  const section = doc.slice(start, doc.indexOf('\n## ', start + 1));
  const rows = section.split('\n').filter((l) => /^\| [^-]/.test(l) && !l.startsWith('| folder'));
  const map = new Map<string, Set<string>>();
  for (const row of rows) {
    const [folder, allowed] = row
      .split('|')
      .slice(1, 3)
      .map((c) => c.trim());
    map.set(folder, new Set(allowed ? allowed.split(',').map((s) => s.trim()) : []));
  }
  return map;
}

describe('the import map', () => {
  const map = importMap();
  const all = files(SRC);

  test('docs/architecture.md lists every folder of src', () => {
    const folders = new Set(all.map(folderOf));
    expect([...folders].sort()).toEqual([...map.keys()].sort());
  });

  test('every import from another folder goes through its door and is allowed by the map', () => {
    const offenders: string[] = [];
    for (const file of all) {
      const from = folderOf(file);
      for (const target of allRelativeImports(file)) {
        const to = folderOf(target);
        if (to === from || to.startsWith('(')) continue; // within a folder, or src/node.ts re-exporting src/index.ts
        const door = rel(target) === `${to}/index.ts` || rel(target) === `${to}/node.ts`;
        if (!door)
          offenders.push(`${rel(file)} imports ${rel(target)}, not ${to}'s door (${to}/index.ts)`);
        if (!map.get(from)?.has(to))
          offenders.push(`${rel(file)} imports ${to}, which the map does not allow ${from}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});

const RUNTIME_GLOBAL =
  /\b(process|Bun|Deno)\s*(\.|\?\.|\[)|globalThis\s+as\s+\{[^}]*\b(process|Bun|Deno)\??\s*:/;
/** Code with comments and string contents blanked, so a word in prose is not a use. */
function code(file: string): string {
  return readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1')
    .replace(/'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"/g, "''");
}
const RUNTIME_READERS = [
  'runtime/env.ts',
  'runtime/process.ts',
  'runtime/worker.ts',
  'serve/bun.ts',
  'serve/deno.ts',
  'serve/deno-deploy.ts',
  'serve/node.ts',
];

test('runtime globals are read only in src/runtime and the server entries', () => {
  const readers = files(SRC)
    .filter((f) => RUNTIME_GLOBAL.test(code(f)))
    .map(rel)
    .sort();
  expect(readers).toEqual([...RUNTIME_READERS].sort());
});

describe('the pure core (src/index.ts)', () => {
  // Everything src/index.ts reaches at run time, dynamic imports included (selectBackend loads WebGPU on demand).
  const reached = new Set<string>();
  const external = new Set<string>();
  const walk = (file: string) => {
    if (reached.has(file)) return;
    reached.add(file);
    for (const spec of importsOf(file)) {
      if (spec.startsWith('.')) walk(normalize(join(dirname(file), spec)));
      else external.add(spec);
    }
  };
  walk(join(SRC, 'index.ts'));

  test('imports no node: or bun: module, and only browser-safe packages', () => {
    expect(
      [...external].filter((s) => s.startsWith('node:') || s.startsWith('bun')).sort(),
    ).toEqual([]);
    // zod (schemas), jpeg-js (a pure-JS decoder) and Dawn's webgpu package (loaded only where no navigator.gpu
    // exists) are the packages it may reach.
    expect([...external].filter((s) => !['zod', 'jpeg-js', 'webgpu'].includes(s)).sort()).toEqual(
      [],
    );
  });

  test('reads runtime globals only through src/runtime', () => {
    expect(
      [...reached]
        .filter((f) => RUNTIME_GLOBAL.test(code(f)) && !rel(f).startsWith('runtime/'))
        .map(rel),
    ).toEqual([]);
    expect(
      [...reached].some(
        (f) => rel(f).startsWith('serve/') || rel(f).startsWith('io/') || rel(f) === 'data/node.ts',
      ),
    ).toBe(false);
  });

  test('bundles for the browser', async () => {
    const out = await Bun.build({
      entrypoints: [join(SRC, 'index.ts')],
      target: 'browser',
      external: ['webgpu'],
    });
    expect(out.logs.filter((l) => l.level === 'error').map(String)).toEqual([]);
    expect(out.success).toBe(true);
    const text = await out.outputs[0].text();
    expect(text).not.toMatch(/from\s*["']node:/);
    expect(text.length).toBeGreaterThan(100_000); // the whole core, not an empty shell
  }, 60_000);
});

test(`no hand-written source file is over ${MAX_LINES} lines (scripts/loc.ts, also run by CI)`, () => {
  expect(
    measure()
      .filter((f) => f.lines > MAX_LINES)
      .map((f) => `${f.file} (${f.lines})`),
  ).toEqual([]);
  expect(measure().some((f) => f.file === 'src/nn/sequential.ts')).toBe(true);
});

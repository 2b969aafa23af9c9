// Builds the Cloudflare Workers bundle in dist/worker/ (docs/edge.md): worker.js (src/serve/worker.ts with the app
// and the core, no node: import), kernels.wasm (compiled by the platform, never at run time), the default model's
// model.json and weights.safetensors. Prints raw and gzip sizes; fails past the free plan's 3 MiB gzip.
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DEFAULT_MODEL, noDawnInBrowsers } from '../src/serve/index.ts';
import { KERNELS_WASM_BASE64 } from '../src/backend/wasm/kernels-wasm.ts';
import { scriptFlags } from '../src/cli/index.ts';

const ROOT = join(import.meta.dir, '..');
export const WORKER_DIR = join(ROOT, 'dist/worker');
/** The modules worker.js imports from beside itself (src/serve/worker-modules.d.ts types them), besides cloudflare:workers. */
export const SIBLINGS = ['kernels.wasm', 'model.json', 'weights.safetensors'] as const;
/** Cloudflare's limit on a free plan Worker's compressed size. */
export const GZIP_LIMIT = 3 * 2 ** 20;

/** The plugin shape of Bun.build used here. */
type Plugin = NonNullable<Parameters<typeof Bun.build>[0]['plugins']>[number];

/** worker.ts's sibling imports stay imports: the files are written beside worker.js, as the platform's modules. */
const siblingsExternal: Plugin = {
  name: 'worker-siblings',
  setup(build) {
    const names = SIBLINGS.map((s) => s.replace('.', '\\.')).join('|');
    build.onResolve({ filter: new RegExp(`^\\./(${names})$`) }, (a) => ({
      path: a.path,
      external: true,
    }));
    // The platform's own module (the Durable Object base class).
    build.onResolve({ filter: /^cloudflare:workers$/ }, (a) => ({ path: a.path, external: true }));
  },
};

/**
 * The base64 copy of the kernels is not shipped: the Worker hands the compiled kernels.wasm to useKernelsModule,
 * and Workers could not compile the bytes anyway. Empty, wasmSimdAvailable() is false until that module arrives.
 */
const noEmbeddedKernels: Plugin = {
  name: 'no-embedded-kernels',
  setup(build) {
    build.onLoad({ filter: /[\\/]backend[\\/]wasm[\\/]kernels-wasm\.ts$/ }, () => ({
      contents: "export const KERNELS_WASM_BASE64 = '';",
      loader: 'ts',
    }));
  },
};

/**
 * node: modules become stubs whose every export throws. The app imports file access for what a Worker does not
 * serve (model directories, audit reports, the demo page's prebuilt scripts, flag parsing); each such path
 * catches the failure and answers as when the file is missing (no audit: 404), and none runs at load time.
 */
const NODE_EXPORTS = [
  'readdir',
  'readFile',
  'stat',
  'open',
  'mkdir',
  'rename',
  'rm',
  'writeFile',
  'join',
  'dirname',
  'basename',
  'resolve',
  'fileURLToPath',
  'parseArgs',
  'randomBytes',
  'createRequire',
  'gunzipSync',
  'createServer',
  'Readable',
];
const nodeStubs: Plugin = {
  name: 'node-stubs',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (a) => ({ path: a.path, namespace: 'node-stub' }));
    build.onLoad({ filter: /.*/, namespace: 'node-stub' }, (a) => ({
      contents: [
        `const unavailable = () => { throw new Error(${JSON.stringify(`${a.path} is not available in Cloudflare Workers`)}); };`,
        ...NODE_EXPORTS.map((n) => `export const ${n} = unavailable;`),
      ].join('\n'),
      loader: 'js',
    }));
  },
};

/** Builds the Worker into `dir` (default dist/worker/) and returns each file's raw and gzip size. */
export async function buildWorker(
  dir = WORKER_DIR,
): Promise<{ file: string; raw: number; gzip: number }[]> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const out = await Bun.build({
    entrypoints: [join(ROOT, 'src/serve/worker.ts')],
    outdir: dir,
    target: 'browser',
    format: 'esm',
    minify: true,
    naming: '[name].[ext]',
    plugins: [siblingsExternal, noEmbeddedKernels, nodeStubs, noDawnInBrowsers as Plugin],
  });
  if (!out.success) throw new AggregateError(out.logs, 'bun build (dist/worker) failed');
  const js = readFileSync(join(dir, 'worker.js'), 'utf8');
  if (/(?:from|import)\s*\(?\s*["']node:/.test(js))
    throw new Error('dist/worker/worker.js imports a node: module');
  if (js.includes(KERNELS_WASM_BASE64.slice(0, 64)))
    throw new Error('dist/worker/worker.js embeds the kernels as base64');
  // The only imports left must be the three siblings (anything else would fail to load on the platform).
  const imports = [
    ...js.matchAll(
      /\bimport\s*(?:[\w$]+|\{[^}]*\}|\*\s*as\s*[\w$]+)?\s*from\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']/g,
    ),
  ]
    .map((m) => m[1] ?? m[2])
    .sort();
  const expected = [...SIBLINGS.map((s) => `./${s}`), 'cloudflare:workers'].sort();
  if (imports.join() !== expected.join())
    throw new Error(
      `dist/worker/worker.js imports ${imports.join(', ')}; expected ${expected.join(', ')}`,
    );

  writeFileSync(join(dir, 'kernels.wasm'), Buffer.from(KERNELS_WASM_BASE64, 'base64'));
  for (const f of ['model.json', 'weights.safetensors'])
    copyFileSync(join(DEFAULT_MODEL.dir, f), join(dir, f));
  return ['worker.js', ...SIBLINGS].map((file) => {
    const bytes = readFileSync(join(dir, file));
    return { file, raw: statSync(join(dir, file)).size, gzip: gzipSync(bytes).length };
  });
}

const USAGE = `usage: bun scripts/build-worker.ts [--out dist/worker]
  builds the Cloudflare Workers bundle (worker.js, kernels.wasm, model.json, weights.safetensors) into --out,
  prints each file's raw and gzip size, and fails when the gzip total passes ${GZIP_LIMIT / 2 ** 20} MiB`;

if (import.meta.main) {
  const v = scriptFlags(USAGE, { out: { type: 'string' } });
  const dir = (v.out as string | undefined) ?? WORKER_DIR;
  const t0 = performance.now();
  const files = await buildWorker(dir);
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  for (const f of files)
    console.log(
      `  ${join(dir, f.file).padEnd(40)} ${kib(f.raw).padStart(10)}  gzip ${kib(f.gzip)}`,
    );
  const raw = files.reduce((a, f) => a + f.raw, 0);
  const gzip = files.reduce((a, f) => a + f.gzip, 0);
  console.log(
    `built ${dir} (${DEFAULT_MODEL.name}) in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${kib(raw)}, gzip ${kib(gzip)} of the ${kib(GZIP_LIMIT)} limit`,
  );
  if (gzip > GZIP_LIMIT) {
    console.error(`error: the Worker is ${kib(gzip)} gzip, over Cloudflare's ${kib(GZIP_LIMIT)}`);
    process.exit(1);
  }
}

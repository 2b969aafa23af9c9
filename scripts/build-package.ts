// Builds what the npm package ships under dist/: bundled ES modules (Node cannot strip types inside node_modules)
// and .d.ts types. Run by `npm run build:package` and by npm's prepack; test/package/pack.test.ts installs the
// result and runs it under Node, Bun and Deno.  bun scripts/build-package.ts [--demo-only: dist/demo/ alone]
import {
  chmodSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { bundleDemo, noDawnInBrowsers, type BrowserBundler } from '../src/serve/index.ts';
import { scriptFlags } from '../src/cli/index.ts';

const ROOT = join(import.meta.dir, '..');
const DIST = join(ROOT, 'dist');
/**
 * The package's dependencies stay imports (npm installs them beside the package); `webgpu` (Dawn, optional)
 * is imported on demand and only where no navigator.gpu exists.
 */
const EXTERNAL = ['hono', 'zod', 'ioredis', 'bullmq', 'jpeg-js', 'webgpu'];

/**
 * dist/lib/: one build with shared chunks, so `hashguard` and `hashguard/node` share one copy of the core
 * (one backend registry, one Tensor class). Every file sits two levels below the package root, which the
 * code finds from import.meta.url (the default model, docs/audit), and worker.js sits beside the chunk of
 * src/parallel/pool.ts, which starts it (defaultWorkerUrl), as audit-job-thread.js sits beside the chunk of
 * src/cli/worker.ts (`hashguard worker` starts it).
 */
async function buildLib(): Promise<void> {
  const out = await Bun.build({
    entrypoints: [
      'src/index.ts',
      'src/node.ts',
      'src/cli/main.ts',
      'src/parallel/worker.ts',
      'src/cli/audit-job-thread.ts',
    ].map((f) => join(ROOT, f)),
    outdir: join(DIST, 'lib'),
    target: 'node',
    format: 'esm',
    splitting: true,
    external: EXTERNAL,
    naming: { entry: '[name].[ext]', chunk: 'chunk-[hash].[ext]' },
  });
  if (!out.success) throw new AggregateError(out.logs, 'bun build (dist/lib) failed');
  // The `hashguard` command: npm links bin entries as they are, so the file carries its interpreter.
  const bin = join(DIST, 'lib/main.js');
  writeFileSync(bin, `#!/usr/bin/env node\n${readFileSync(bin, 'utf8')}`);
  chmodSync(bin, 0o755);
}

/**
 * dist/browser/index.js: the core alone for browsers and edge workers (the "browser" and "worker" export
 * conditions). `webgpu` becomes a stub there, so a bundler never reaches Dawn's native addon; the backend
 * then finds navigator.gpu or falls back to the CPU kernels, as it does without Dawn.
 */
async function buildBrowser(): Promise<void> {
  const out = await Bun.build({
    entrypoints: [join(ROOT, 'src/index.ts')],
    outdir: join(DIST, 'browser'),
    target: 'browser',
    format: 'esm',
    external: EXTERNAL.filter((e) => e !== 'webgpu'),
    plugins: [noDawnInBrowsers],
  });
  if (!out.success) throw new AggregateError(out.logs, 'bun build (dist/browser) failed');
  const text = readFileSync(join(DIST, 'browser/index.js'), 'utf8');
  if (/from\s*["']node:|import\(["']node:/.test(text))
    throw new Error('dist/browser/index.js imports a node: module');
}

/**
 * dist/demo/: the demo page's scripts (page.js, worker.js with the core), which the server answers at /demo/
 * under Node and Deno (Bun builds them itself from the sources, on the first request).
 */
export async function buildDemo(): Promise<void> {
  const scripts = await bundleDemo(Bun.build as unknown as BrowserBundler);
  const dir = join(DIST, 'demo');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(scripts)) writeFileSync(join(dir, name), bytes);
}

/** dist/types/: declarations of src/index.ts and src/node.ts and what they reach (tsconfig.package.json). */
function buildTypes(): void {
  const tsc = Bun.spawnSync([join(ROOT, 'node_modules/.bin/tsc'), '-p', 'tsconfig.package.json'], {
    cwd: ROOT,
    stdout: 'pipe',
    stderr: 'pipe',
  });
  if (tsc.exitCode !== 0)
    throw new Error(`tsc -p tsconfig.package.json failed:\n${tsc.stdout}${tsc.stderr}`);
}

/** Every file under dir with its size, for the summary. */
function listing(dir: string): [string, number][] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((p) => statSync(p).isFile())
    .map((p) => [relative(ROOT, p), statSync(p).size]);
}

// The summary goes to stderr: `npm pack --json` runs this as prepack and its stdout must stay JSON.
const flags = import.meta.main
  ? scriptFlags(
      'usage: bun scripts/build-package.ts [--demo-only]   (writes dist/: the package build; --demo-only: dist/demo/ alone)',
      { 'demo-only': { type: 'boolean' } },
    )
  : {};
if (import.meta.main && flags['demo-only']) {
  // `npm run serve:node` needs only the page's scripts, not the whole package.
  await buildDemo();
} else if (import.meta.main) {
  const t0 = performance.now();
  rmSync(DIST, { recursive: true, force: true });
  await Promise.all([buildLib(), buildBrowser(), buildDemo()]);
  buildTypes();
  const files = listing(DIST);
  const js = files.filter(([f]) => f.endsWith('.js'));
  const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  for (const [f, size] of js) console.error(`  ${f.padEnd(36)} ${kib(size)}`);
  const types = files.filter(([f]) => f.endsWith('.d.ts'));
  console.error(
    `  dist/types: ${types.length} .d.ts files, ${kib(types.reduce((a, [, s]) => a + s, 0))}`,
  );
  console.error(`built dist/ in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

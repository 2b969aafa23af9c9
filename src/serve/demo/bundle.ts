// Builds the demo page's scripts (page.js, worker.js) for browsers with a bundler passed in: Bun.build from the
// Bun entry (on the first request) and from scripts/build-package.ts (dist/demo/ for Node and Deno). Minified
// ES modules; Dawn's npm package `webgpu` becomes a stub, as in dist/browser, so no native addon is reached.
import { fileURLToPath } from 'node:url';

/** The files of the demo's script bundle, as served under /demo/. */
export const DEMO_SCRIPTS = ['page.js', 'worker.js'] as const;
export type DemoScripts = Record<(typeof DEMO_SCRIPTS)[number], Uint8Array<ArrayBuffer>>;

/** The part of a bundler plugin used here (Bun's plugin API). */
export interface StubPlugin {
  name: string;
  setup(build: {
    onResolve(
      o: { filter: RegExp },
      f: (a: { path: string }) => { path: string; namespace: string },
    ): unknown;
    onLoad(
      o: { filter: RegExp; namespace: string },
      f: (a: { path: string }) => { contents: string; loader: 'js' },
    ): unknown;
  }): void;
}

/** The part of Bun.build used here: in-memory outputs (no outdir), one per entry point. */
export type BrowserBundler = (config: {
  entrypoints: string[];
  target: 'browser';
  format: 'esm';
  minify: boolean;
  naming: string;
  plugins: StubPlugin[];
}) => Promise<{
  success: boolean;
  logs: unknown[];
  outputs: { path: string; arrayBuffer(): Promise<ArrayBuffer> }[];
}>;

/** Replaces `import('webgpu')` (Dawn, for Node, Bun and Deno) with a module whose create() throws. */
export const noDawnInBrowsers: StubPlugin = {
  name: 'no-dawn-in-browsers',
  setup(build) {
    build.onResolve({ filter: /^webgpu$/ }, () => ({ path: 'webgpu', namespace: 'stub' }));
    build.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
      contents:
        "export function create() { throw new Error('Dawn (npm webgpu) runs in Node, Bun and Deno only'); }",
      loader: 'js',
    }));
  },
};

/** The page and worker entries beside this file (absent in a built package, where dist/demo/ serves instead). */
export const demoEntries = (): string[] =>
  ['page.ts', 'worker.ts'].map((f) => fileURLToPath(new URL(`./${f}`, import.meta.url)));

/** Bundles page.ts and worker.ts; throws with the bundler's messages when it fails. */
export async function bundleDemo(build: BrowserBundler): Promise<DemoScripts> {
  const out = await build({
    entrypoints: demoEntries(),
    target: 'browser',
    format: 'esm',
    minify: true,
    naming: '[name].[ext]',
    plugins: [noDawnInBrowsers],
  });
  if (!out.success) throw new AggregateError(out.logs, 'demo bundle: the build failed');
  const files: Partial<DemoScripts> = {};
  for (const o of out.outputs) {
    const name = o.path.split(/[\\/]/).pop() as keyof DemoScripts;
    if (DEMO_SCRIPTS.includes(name)) files[name] = new Uint8Array(await o.arrayBuffer());
  }
  const missing = DEMO_SCRIPTS.filter((f) => !files[f]);
  if (missing.length) throw new Error(`demo bundle: no ${missing.join(', ')} in the build output`);
  return files as DemoScripts;
}

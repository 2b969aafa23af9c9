// Builds the single `hashguard` executable with `bun build --compile`: the CLI (src/cli/main.ts) plus the inference
// worker as a second entry point, the default model and the WASM kernels embedded in the code, Dawn left out.
// Usage: see USAGE below (`npm run build:binary`).
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { scriptFlags } from '../src/cli/index.ts';

const ROOT = join(import.meta.dir, '..');
/** Where `npm run build:binary` writes the executable (dist/ is not committed). */
export const DEFAULT_BINARY = join(ROOT, 'dist/bin/hashguard');
/** The platform built for unless --target says otherwise. */
export const DEFAULT_TARGET = 'bun-linux-x64';

/** This machine's compile target (tests build for it, so they need no download and can run the result). */
export function hostTarget(): string {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  return `bun-${os}-${process.arch}`;
}

const USAGE = `usage: bun scripts/build-binary.ts [--target ${DEFAULT_TARGET}] [--out dist/bin/hashguard]
  --target   bun's compile target (bun-linux-x64, bun-linux-arm64, bun-darwin-arm64, bun-windows-x64, ...);
             a target other than this machine's makes bun download that runtime once
  --out      the executable to write (default dist/bin/hashguard)`;

/**
 * The `bun build` arguments. NOTE: the worker pool starts `./worker.js` beside the module it was bundled into
 * (defaultWorkerUrl). In a compiled binary the CLI bundle sits at the root of Bun's embedded file system and an
 * extra entry point is placed by its path under --root, so --root src/parallel puts the worker exactly there.
 * `webgpu` (Dawn, a native addon) stays external: its dynamic import fails and the CPU kernels run.
 */
export function binaryBuildArgs(out: string, target: string): string[] {
  return [
    'build',
    '--compile',
    `--target=${target}`,
    '--root',
    join(ROOT, 'src/parallel'),
    join(ROOT, 'src/cli/main.ts'),
    join(ROOT, 'src/parallel/worker.ts'),
    '--external',
    'webgpu',
    '--outfile',
    out,
  ];
}

/** Builds the executable; returns its size in bytes and the build's wall time. */
export function buildBinary(
  out = DEFAULT_BINARY,
  target = DEFAULT_TARGET,
): { bytes: number; seconds: number } {
  mkdirSync(dirname(out), { recursive: true });
  const t0 = performance.now();
  const r = Bun.spawnSync([process.execPath, ...binaryBuildArgs(out, target)], {
    cwd: ROOT,
    stdout: 'pipe',
    stderr: 'pipe',
  });
  if (r.exitCode !== 0)
    throw new Error(`bun build --compile failed (exit ${r.exitCode}):\n${r.stderr}${r.stdout}`);
  return { bytes: statSync(out).size, seconds: (performance.now() - t0) / 1000 };
}

if (import.meta.main) {
  const v = scriptFlags(USAGE, { target: { type: 'string' }, out: { type: 'string' } });
  const out = resolve(typeof v.out === 'string' ? v.out : DEFAULT_BINARY);
  const { bytes, seconds } = buildBinary(out, typeof v.target === 'string' ? v.target : undefined);
  console.log(`wrote ${out} (${(bytes / 2 ** 20).toFixed(1)} MiB in ${seconds.toFixed(1)} s)`);
}

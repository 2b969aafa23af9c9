// The npm package as users get it: `npm pack` (its prepack builds dist/), an install of the tarball into an empty
// project with no network, then under Node, Bun and Deno: the core and the node door classify the sample digit,
// `hashguard --help` lists every command and `hashguard serve` answers one request; its types check strictly.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dir, '../..');
const BUN = process.execPath;
const DENO = join(ROOT, 'node_modules/.bin/deno');
const DIGIT = join(ROOT, 'examples/digit-7.png'); // a 7, 112×112 grey, dark on light (the model inverts it)
const DEFAULT_MODEL = 'mnist-cnn-h8-at-gi';
/** The command names a `hashguard --help` lists (lines '  <name>  <what it does>'). */
const commandsIn = (help: string) => [...help.matchAll(/^ {2}([a-z][a-z-]*) /gm)].map((m) => m[1]);
const ENV = { ...process.env, REDIS_URL: '', NO_COLOR: '1' };

let work = '';
let project = '';
let packed: { filename: string; size: number; unpackedSize: number; files: { path: string }[] };

/** Runs a command to the end; a failure names the command and shows its output. */
function run(cmd: string[], cwd: string): string {
  const p = Bun.spawnSync(cmd, { cwd, env: ENV, stdout: 'pipe', stderr: 'pipe' });
  const out = p.stdout.toString();
  if (p.exitCode !== 0)
    throw new Error(`\`${cmd.join(' ')}\` (in ${cwd}) exited ${p.exitCode}:\n${p.stderr}${out}`);
  return out;
}

function timed<T>(what: string, fn: () => T): T {
  const t0 = performance.now();
  const r = fn();
  console.log(`${what}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return r;
}

type LockEntry = Record<string, unknown> & {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
};

/**
 * The consumer's package-lock.json: the tarball plus its dependencies' closure taken from the repository's lock
 * (same versions, integrity hashes and layout). With it `npm ci --offline` installs from the npm cache that the
 * repository's own `npm ci` filled; `npm install <tarball>` would first fetch the registry's package documents.
 */
function consumerLock(tarball: string): object {
  const repoLock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
  const entries = repoLock.packages as Record<string, LockEntry>;
  const pkg = entries[''];
  // Node's lookup over lock paths: node_modules/<name> beside `from`, then in each folder above it.
  const resolve = (name: string, from: string): string => {
    for (let base = from; ; base = base.slice(0, Math.max(0, base.lastIndexOf('/node_modules/')))) {
      const path = `${base ? `${base}/` : ''}node_modules/${name}`;
      if (entries[path]) return path;
      if (!base) throw new Error(`package-lock.json has no ${name} for ${from || 'the root'}`);
    }
  };
  const closure: Record<string, LockEntry> = {};
  const walk = (path: string) => {
    if (closure[path]) return;
    const { dev: _dev, devOptional: _devOptional, ...entry } = entries[path];
    closure[path] = entry;
    for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies }))
      walk(resolve(dep, path));
  };
  const runtimeDeps = { ...pkg.dependencies, ...pkg.optionalDependencies };
  for (const dep of Object.keys(runtimeDeps)) walk(resolve(dep, ''));
  const spec = `file:${tarball}`;
  return {
    name: 'consumer',
    version: '0.0.0',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { name: 'consumer', version: '0.0.0', dependencies: { hashguard: spec } },
      'node_modules/hashguard': {
        version: JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version,
        resolved: spec,
        license: 'MIT',
        dependencies: pkg.dependencies,
        optionalDependencies: pkg.optionalDependencies,
        bin: { hashguard: 'dist/lib/main.js' },
      },
      ...closure,
    },
  };
}

// The consumer's script: the core decodes the packaged default model from bytes and classifies the digit; the
// node door loads the same directory from disk and shares the core's classes (one copy of the core).
const CLASSIFY = `
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { imageToInput, inputBackground, modelFromBytes, predict, Tensor } from 'hashguard';
import * as door from 'hashguard/node';
const dir = join(dirname(createRequire(import.meta.url).resolve('hashguard/package.json')), 'models/${DEFAULT_MODEL}');
const model = await modelFromBytes(readFileSync(join(dir, 'model.json')), readFileSync(join(dir, 'weights.safetensors')));
const image = readFileSync(process.argv[2]);
const { x } = imageToInput(image, model.manifest.input.shape, undefined, inputBackground(model.manifest));
const fromDisk = await door.loadModel(dir);
console.log(JSON.stringify({ core: predict(model, x)[0], node: door.predict(fromDisk, x)[0], shared: door.Tensor === Tensor }));
`;

// A strict consumer of the types: both doors, skipLibCheck off (pool.d.ts names Symbol.dispose: ESNext.Disposable).
const TYPES_CHECK = `
import { imageToInput, inputBackground, modelFromBytes, predict, Tensor } from 'hashguard';
import { createApp, loadModel } from 'hashguard/node';
const model = await modelFromBytes('{}', new Uint8Array());
const input = imageToInput(new Uint8Array(), model.manifest.input.shape, undefined, inputBackground(model.manifest));
export const label: Int32Array = predict(model, input.x);
export const t: Tensor = new Tensor([1], new Float32Array(1));
export const app = createApp({ models: { m: { model: await loadModel('m') } } });
`;
const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    lib: ['ES2022', 'DOM', 'ESNext.Disposable'],
    types: [],
    strict: true,
    noEmit: true,
    skipLibCheck: false,
  },
  files: ['check.ts'],
};

const runtimes: Record<string, { script: string[]; permissions: string[] }> = {
  node: { script: ['node'], permissions: [] },
  bun: { script: [BUN], permissions: [] },
  deno: {
    script: [DENO, 'run', '--quiet', '--cached-only'],
    permissions: ['--allow-read', '--allow-env', '--allow-net', '--allow-sys'],
  },
};
const command = (rt: string, ...args: string[]) => [
  ...runtimes[rt].script,
  ...runtimes[rt].permissions,
  ...args,
];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'hashguard-pack-'));
  project = join(work, 'consumer');
  const out = timed('npm pack (prepack builds dist/)', () =>
    run(['npm', 'pack', '--json', '--pack-destination', work], ROOT),
  );
  [packed] = JSON.parse(out);
  console.log(
    `packed ${packed.filename}: ${(packed.size / 1e6).toFixed(2)} MB, unpacked ${(packed.unpackedSize / 1e6).toFixed(2)} MB, ${packed.files.length} files`,
  );
  const tarball = join(work, packed.filename);
  mkdirSync(project);
  const pkg = { name: 'consumer', version: '0.0.0', private: true, type: 'module' };
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ ...pkg, dependencies: { hashguard: `file:${tarball}` } }),
  );
  writeFileSync(join(project, 'package-lock.json'), JSON.stringify(consumerLock(tarball)));
  timed('npm ci --offline (from the npm cache)', () =>
    run(['npm', 'ci', '--offline', '--no-audit', '--no-fund'], project),
  );
  writeFileSync(join(project, 'classify.mjs'), CLASSIFY);
  writeFileSync(join(project, 'check.ts'), TYPES_CHECK);
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(TSCONFIG));
}, 240_000);

// The install holds ~150 MB (Dawn's binaries for every platform): removing it outlasts the default 5 s hook limit.
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
}, 60_000);

test('the tarball holds the built package, the default model and its audit, and nothing else', () => {
  expect(packed.size).toBeLessThan(10 * 2 ** 20);
  const paths = packed.files.map((f) => f.path);
  for (const path of [
    'dist/lib/index.js',
    'dist/lib/node.js',
    'dist/lib/main.js',
    'dist/lib/worker.js',
    'dist/browser/index.js',
    'dist/types/index.d.ts',
    'dist/types/node.d.ts',
    'dist/demo/page.js',
    'dist/demo/worker.js',
    `models/${DEFAULT_MODEL}/model.json`,
    `models/${DEFAULT_MODEL}/weights.safetensors`,
    'docs/audit/mnist-cnn.json',
  ])
    expect(paths).toContain(path);
  const allowed =
    /^(dist\/(lib|browser|types|demo)\/|models\/mnist-cnn-h8-at-gi\/|docs\/audit\/mnist-cnn\.json$|README\.md$|LICENSE$|package\.json$)/;
  expect(paths.filter((p) => !allowed.test(p))).toEqual([]);
  // The browser build has no node: import and no reach for Dawn's native addon.
  const browser = readFileSync(
    join(project, 'node_modules/hashguard/dist/browser/index.js'),
    'utf8',
  );
  expect(browser).not.toMatch(/from\s*["']node:|import\(["'](node:|webgpu)/);
});

describe.each(Object.keys(runtimes))('%s', (rt) => {
  test('the core and the node door classify the sample digit as 7', () => {
    const out = run(command(rt, 'classify.mjs', DIGIT), project);
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({ core: 7, node: 7, shared: true });
  }, 60_000);

  test('hashguard --help lists every command of the source CLI', () => {
    const source = commandsIn(run([BUN, 'src/cli/main.ts', '--help'], ROOT));
    expect(source).toEqual(
      expect.arrayContaining(['train', 'eval', 'convert', 'harden', 'audit', 'certify', 'serve']),
    );
    const out = run(command(rt, 'node_modules/.bin/hashguard', '--help'), project);
    expect(commandsIn(out)).toEqual(source);
  }, 60_000);

  test('hashguard serve answers one request on a free port, then stops on SIGTERM', async () => {
    const cmd = command(
      rt,
      'node_modules/.bin/hashguard',
      'serve',
      '--port',
      '0',
      '--workers',
      '1',
    );
    const proc = Bun.spawn(cmd, { cwd: project, env: ENV, stdout: 'pipe', stderr: 'pipe' });
    try {
      const banner = await firstLine(proc.stdout, /^hashguard serving .* at (http:\S+)/, 60_000);
      const url = /at (http:\S+)/.exec(banner)![1];
      const res = await fetch(`${url}/v1/models/${DEFAULT_MODEL}:classify`, {
        method: 'POST',
        headers: { 'content-type': 'image/png' },
        body: readFileSync(DIGIT),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { label: number }).label).toBe(7);
      proc.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
    } catch (e) {
      proc.kill('SIGKILL');
      const err = await new Response(proc.stderr).text();
      throw new Error(`\`${cmd.join(' ')}\` (in ${project}): ${(e as Error).message}\n${err}`);
    }
  }, 90_000);
});

test('the types check in a strict consumer project (both doors)', () => {
  timed('tsc on the consumer', () =>
    run([join(ROOT, 'node_modules/.bin/tsc'), '-p', '.'], project),
  );
}, 120_000);

/** The first stdout line matching `match`, or an error holding what was printed. */
async function firstLine(
  stream: ReadableStream<Uint8Array>,
  match: RegExp,
  timeoutMs: number,
): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let seen = '';
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      const r = await Promise.race([
        reader.read(),
        Bun.sleep(deadline - Date.now()).then(() => ({ done: true as const, value: undefined })),
      ]);
      if (r.done) break;
      seen += decoder.decode(r.value, { stream: true });
      const line = seen.split('\n').find((l) => match.test(l));
      if (line) return line;
    }
  } finally {
    reader.releaseLock();
  }
  throw new Error(`no line matching ${match}; stdout:\n${seen}`);
}

// The Deno Deploy entry and the embedded default model it serves: the committed module is current and equals
// models/<default> byte for byte, a corrupt copy is refused by name, and under Deno with only --allow-net and
// --allow-env (no file access) the entry answers health, metadata, infer and :classify as createApp does in Bun.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { DEFAULT_EMBED, embedModelText } from '../../scripts/embed-model.ts';
import {
  DEFAULT_EMBEDDED_MODEL,
  DEFAULT_MODEL,
  EmbeddedModelError,
  createApp,
  embeddedFiles,
  inProcessExecutor,
  loadEmbeddedModel,
  type HashguardApp,
} from '../../src/serve/index.ts';
import { ROOT, digitPng, inferBody, mnistDigits } from './helpers.ts';
import { waitForLine } from '../helpers/wait-for-line.ts';

const NAME = DEFAULT_MODEL.name;
const deno = join(ROOT, 'node_modules/.bin/deno');
// The first 16 test digits: the default model's random GI draws leave their labels alone (checked below in Bun),
// so two processes with different secrets must agree on them.
const N = 16;
const digits = mnistDigits(N);

describe('the embedded default model', () => {
  test(`${DEFAULT_EMBED.out} is current (run: bun scripts/embed-model.ts --model ${DEFAULT_EMBED.model} --out ${DEFAULT_EMBED.out})`, async () => {
    expect(readFileSync(join(ROOT, DEFAULT_EMBED.out), 'utf8')).toBe(
      await embedModelText(join(ROOT, DEFAULT_EMBED.model), join(ROOT, DEFAULT_EMBED.out)),
    );
  });

  test('is the server default, its files byte for byte', async () => {
    expect(DEFAULT_EMBEDDED_MODEL.name).toBe(NAME);
    expect(join(ROOT, DEFAULT_EMBED.model)).toBe(DEFAULT_MODEL.dir);
    const { manifest, weights } = await embeddedFiles(DEFAULT_EMBEDDED_MODEL);
    expect(manifest).toEqual(new Uint8Array(readFileSync(join(DEFAULT_MODEL.dir, 'model.json'))));
    expect(weights).toEqual(
      new Uint8Array(readFileSync(join(DEFAULT_MODEL.dir, 'weights.safetensors'))),
    );
    const model = await loadEmbeddedModel(DEFAULT_EMBEDDED_MODEL);
    expect(model.manifest.name).toBe(NAME);
    expect(model.manifest.weights.sha256).toBe(DEFAULT_EMBEDDED_MODEL.weightsSha256);
  });

  test('a corrupt copy is refused before decoding, naming the file and the checksums', async () => {
    const m = DEFAULT_EMBEDDED_MODEL;
    // One base64 character changed: still valid base64, other bytes.
    const i = 1000,
      flipped = m.weightsBase64[i] === 'A' ? 'B' : 'A';
    const weights = {
      ...m,
      weightsBase64: m.weightsBase64.slice(0, i) + flipped + m.weightsBase64.slice(i + 1),
    };
    const error = await loadEmbeddedModel(weights).catch((e) => e);
    expect(error).toBeInstanceOf(EmbeddedModelError);
    expect(error.message).toMatch(
      new RegExp(
        `^embedded model '${NAME}': weights\\.safetensors has sha256 [0-9a-f]{64}, expected ${m.weightsSha256}: the embedded copy is corrupt`,
      ),
    );
    const manifest = { ...m, manifest: m.manifest.replace('"format": 1', '"format": 2') };
    await expect(loadEmbeddedModel(manifest)).rejects.toThrow(/model\.json has sha256 .* corrupt/);
    const notBase64 = { ...m, weightsBase64: `${m.weightsBase64.slice(0, 100)}!` };
    await expect(loadEmbeddedModel(notBase64)).rejects.toThrow('weightsBase64 is not valid base64');
  });
});

/** A port nothing listens on now (bound and released by this process). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** The answers a test compares across runtimes: metadata, infer labels, :classify labels. */
async function answers(get: (path: string, init?: RequestInit) => Promise<Response>) {
  const json = async (r: Response) => {
    expect(r.status).toBe(200);
    return (await r.json()) as Record<string, unknown>;
  };
  const meta = await json(await get(`/v2/models/${NAME}`));
  const infer = await json(
    await get(`/v2/models/${NAME}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: inferBody(digits.floats),
    }),
  );
  const classified: unknown[] = [];
  for (let i = 0; i < 4; i++) {
    const png = digitPng(digits.bytes.subarray(i * 784, (i + 1) * 784), { scale: 2 });
    const r = await json(
      await get(`/v1/models/${NAME}:classify`, {
        method: 'POST',
        headers: { 'content-type': 'image/png' },
        body: png,
      }),
    );
    classified.push(r.label);
  }
  const labels = (infer.outputs as { data: number[] }[])[0].data;
  return { meta, labels, classified };
}

describe('src/serve/deno-deploy.ts under Deno, with no file access', () => {
  let app: HashguardApp;
  beforeAll(async () => {
    // The same model through createApp in Bun, read from its directory.
    app = createApp({
      models: { [NAME]: { dir: DEFAULT_MODEL.dir } },
      executor: inProcessExecutor(),
      budgets: false,
      detect: false,
      demo: false,
      auditDir: join(ROOT, 'no-such-dir'), // as on Deploy: no audit reports
    });
    await app.ready;
  });
  afterAll(() => app.close());

  test('--allow-net --allow-env only: health, metadata, infer and :classify match Bun', async () => {
    const inBun = await answers((path, init) => Promise.resolve(app.request(path, init)));
    // The premise: these digits' labels do not move with the random draw (a second request draws afresh).
    expect(
      (await answers((path, init) => Promise.resolve(app.request(path, init)))).labels,
    ).toEqual(inBun.labels);
    expect(inBun.labels).toEqual(digits.labels);

    const port = await freePort();
    const proc = Bun.spawn(
      [
        deno,
        'run',
        '--quiet',
        '--no-prompt',
        '--allow-net',
        '--allow-env',
        join(ROOT, 'src/serve/deno-deploy.ts'),
      ],
      {
        cwd: ROOT,
        stdout: 'pipe',
        stderr: 'pipe',
        env: {
          ...process.env,
          PORT: String(port),
          HOST: '127.0.0.1',
          REDIS_URL: '',
          NO_COLOR: '1',
        },
      },
    );
    try {
      const line = await waitForLine(proc.stdout, /^hashguard serving /, 45_000);
      expect(line).toContain(`${NAME} (backend cpu-wasm-simd, random GI`);
      expect(line).toContain(`http://127.0.0.1:${port} (workers 1,`);
      const base = `http://127.0.0.1:${port}`;
      const live = await fetch(`${base}/v2/health/ready`);
      expect(live.status).toBe(200);
      expect(await live.json()).toEqual({ ready: true });
      const inDeno = await answers((path, init) => fetch(`${base}${path}`, init));
      expect(inDeno.meta).toEqual(inBun.meta);
      expect(inDeno.labels).toEqual(inBun.labels);
      expect(inDeno.classified).toEqual(inBun.classified);
    } finally {
      proc.kill();
      await proc.exited;
    }
    // Nothing asked for a permission it lacked (a denied read would be logged or fail a route).
    expect(await new Response(proc.stderr).text()).not.toMatch(
      /NotCapable|PermissionDenied|--allow-read/,
    );
  }, 90_000);

  test('--model is refused (exit 2): the entry has no file access to read one', async () => {
    const proc = Bun.spawn(
      [
        deno,
        'run',
        '--quiet',
        '--no-prompt',
        '--allow-net',
        '--allow-env',
        join(ROOT, 'src/serve/deno-deploy.ts'),
        '--model',
        `x=${DEFAULT_MODEL.dir}`,
      ],
      { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' },
    );
    expect(await proc.exited).toBe(2);
    expect(await new Response(proc.stderr).text()).toContain('serves its embedded model only');
  }, 60_000);
});

// The Cloudflare Workers bundle (scripts/build-worker.ts) run in workerd, the Workers runtime: health, metadata,
// infer and :classify answer the labels the same model gives in Bun, on the WebAssembly kernels, and a key's
// budget lives in the Durable Object, shared by two isolates (two services bound to one namespace).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWorker, GZIP_LIMIT } from '../../scripts/build-worker.ts';
import { loadModel } from '../../src/node.ts';
import { createApp, DEFAULT_MODEL, inProcessExecutor } from '../../src/serve/index.ts';
import { digitPng, inferBody, JSON_HEADERS, mnistDigits, ROOT } from './helpers.ts';
import { serviceMissing } from '../helpers/services.ts';

const WORKERD = join(ROOT, 'node_modules/.bin/workerd');
const NAME = DEFAULT_MODEL.name;
const digits = mnistDigits(8);
const LIMIT = 20;

/** A port nobody listens on now (the OS picks it; closed again before workerd binds it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * Two services from one bundle: `main` defines the Durable Object namespace, `replica` binds the same one, so a
 * budget spent through either is spent for both (their isolates share no memory).
 */
function config(mainPort: number, replicaPort: number): string {
  const modules = `[
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "kernels.wasm", wasm = embed "kernels.wasm"),
    (name = "model.json", json = embed "model.json"),
    (name = "weights.safetensors", data = embed "weights.safetensors"),
  ]`;
  const vars = `(name = "HASHGUARD_API_KEYS", text = "alpha,beta"),
    (name = "HASHGUARD_BUDGET_LIMIT", text = "${LIMIT}"),
    (name = "HASHGUARD_DETECT", text = "log")`;
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .main), (name = "replica", worker = .replica) ],
  sockets = [
    (name = "main", address = "127.0.0.1:${mainPort}", http = (), service = "main"),
    (name = "replica", address = "127.0.0.1:${replicaPort}", http = (), service = "replica"),
  ],
);
const main :Workerd.Worker = (
  compatibilityDate = "2025-09-01",
  modules = ${modules},
  bindings = [ (name = "BUDGETS", durableObjectNamespace = "BudgetDurableObject"), ${vars} ],
  durableObjectNamespaces = [ (className = "BudgetDurableObject", uniqueKey = "hashguard-test-budgets") ],
  durableObjectStorage = (inMemory = void),
);
const replica :Workerd.Worker = (
  compatibilityDate = "2025-09-01",
  modules = ${modules},
  bindings = [
    (name = "BUDGETS", durableObjectNamespace = (serviceName = "main", className = "BudgetDurableObject")),
    ${vars}
  ],
);
`;
}

if (!existsSync(WORKERD)) {
  serviceMissing('workerd', 'run npm ci (workerd is a devDependency)', `${WORKERD} not found`);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'hashguard-workerd-'));
  let proc: ReturnType<typeof Bun.spawn> | null = null;
  let log = '';
  let main = '',
    replica = '';
  let sizes: { file: string; raw: number; gzip: number }[] = [];

  beforeAll(async () => {
    sizes = await buildWorker(dir);
    const [a, b] = [await freePort(), await freePort()];
    main = `http://127.0.0.1:${a}`;
    replica = `http://127.0.0.1:${b}`;
    writeFileSync(join(dir, 'config.capnp'), config(a, b));
    proc = Bun.spawn([WORKERD, 'serve', 'config.capnp'], {
      cwd: dir,
      stdout: 'pipe',
      stderr: 'pipe',
    });
    for (const stream of [proc.stdout, proc.stderr] as ReadableStream<Uint8Array>[])
      void (async () => {
        for await (const chunk of stream) log += new TextDecoder().decode(chunk);
      })();
    // Up within 20 s, both sockets answering (workerd exits at once on a bad config or module).
    const until = Date.now() + 20_000;
    for (;;) {
      const up = await Promise.all(
        [main, replica].map((u) =>
          fetch(`${u}/v2/health/live`).then(
            (r) => r.ok,
            () => false,
          ),
        ),
      );
      if (up.every(Boolean)) break;
      if (proc.exitCode !== null || Date.now() > until)
        throw new Error(`workerd did not start (exit ${proc.exitCode}):\n${log}`);
      await Bun.sleep(100);
    }
  }, 30_000);

  afterAll(async () => {
    if (proc) {
      proc.kill();
      await proc.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** The same model in Bun, through createApp + app.request(): the labels workerd must answer. */
  const local = async () => {
    const app = createApp({
      models: { [NAME]: { model: await loadModel(DEFAULT_MODEL.dir) } },
      executor: inProcessExecutor(),
      detect: false,
      budgets: false,
      log: () => {},
    });
    await app.ready;
    return app;
  };

  const post = (base: string, path: string, body: BodyInit, headers: Record<string, string>) =>
    fetch(`${base}${path}`, { method: 'POST', body, headers });
  const bearer = (key: string, h: Record<string, string> = JSON_HEADERS) => ({
    ...h,
    authorization: `Bearer ${key}`,
  });

  describe('the Worker bundle in workerd', () => {
    test('is within the free plan and carries the kernels as a .wasm module', () => {
      expect(sizes.map((s) => s.file).sort()).toEqual(
        ['kernels.wasm', 'model.json', 'weights.safetensors', 'worker.js'].sort(),
      );
      expect(sizes.reduce((a, s) => a + s.gzip, 0)).toBeLessThan(GZIP_LIMIT);
    });

    test('health: live and ready', async () => {
      const live = await fetch(`${main}/v2/health/live`);
      expect(await live.json()).toEqual({ live: true });
      const ready = await fetch(`${main}/v2/health/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ ready: true });
    });

    test('metadata: the default model on the WebAssembly kernels', async () => {
      const r = await fetch(`${main}/v2/models/${NAME}`);
      expect(r.status).toBe(200);
      const m = await r.json();
      const expected = await (await (await local()).request(`/v2/models/${NAME}`)).json();
      expect(m).toEqual(expected);
      expect(m.backend).toBe('cpu-wasm-simd'); // the platform-compiled module, not the reference kernels
    });

    test('infer: a JSON tensor of MNIST digits gets the labels Bun gives', async () => {
      const body = inferBody(digits.floats);
      const r = await post(main, `/v2/models/${NAME}/infer`, body, bearer('alpha'));
      expect(r.status).toBe(200);
      const labels = (await r.json()).outputs[0].data;
      const bun = await (
        await local()
      ).request(`/v2/models/${NAME}/infer`, {
        method: 'POST',
        body,
        headers: JSON_HEADERS,
      });
      expect(labels).toEqual((await bun.json()).outputs[0].data);
      expect(labels).toEqual(digits.labels); // these eight are classified right, as in Bun
    });

    test(':classify: a PNG body gets the label Bun gives', async () => {
      const app = await local();
      for (const i of [0, 1]) {
        const png = digitPng(digits.bytes.subarray(i * 784, (i + 1) * 784), { scale: 2 });
        const headers = { 'content-type': 'image/png' };
        const r = await post(main, `/v1/models/${NAME}:classify`, png, bearer('alpha', headers));
        expect(r.status).toBe(200);
        const bun = await app.request(`/v1/models/${NAME}:classify`, {
          method: 'POST',
          body: png,
          headers,
        });
        const [got, want] = [await r.json(), await bun.json()];
        expect(got.label).toBe(want.label);
        expect(got.label).toBe(digits.labels[i]);
      }
    });

    test('budget: a key spent through two isolates is refused 429 by the Durable Object', async () => {
      const infer = (base: string, key: string, from: number, n: number) =>
        post(
          base,
          `/v2/models/${NAME}/infer`,
          inferBody(digits.floats.subarray(from * 784, (from + n) * 784)),
          bearer(key),
        );
      // 12 through main and 8 through replica spend beta's 20; neither isolate alone saw 20.
      expect((await infer(main, 'beta', 0, 6)).status).toBe(200);
      expect((await infer(main, 'beta', 2, 6)).status).toBe(200);
      expect((await infer(replica, 'beta', 0, 8)).status).toBe(200);
      const refused = await infer(replica, 'beta', 3, 1);
      expect(refused.status).toBe(429);
      expect(await refused.json()).toEqual({
        error: `query budget exhausted: ${LIMIT} of ${LIMIT} images used in this window`,
      });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await infer(main, 'beta', 4, 1)).status).toBe(429);
      // Another key keeps its own budget (alpha spent 10 of 20 in the tests above).
      expect((await infer(replica, 'alpha', 0, 1)).status).toBe(200);
      // A key nobody issued is refused before any budget is touched.
      expect((await infer(main, 'gamma', 0, 1)).status).toBe(401);
    });
  });
}

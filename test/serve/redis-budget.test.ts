// Budgets in Redis (REDIS_URL_TEST, e.g. redis://127.0.0.1:6379): two app instances share one budget, a
// restarted instance keeps the counts, the Lua charge is atomic under concurrency, and readiness follows
// the store. Without REDIS_URL_TEST they skip with one line (fail under CI=true: CI starts a Redis).
import { afterAll, describe, expect, test } from 'bun:test';
import { connect, createServer } from 'node:net';
import { RedisBudgetStore } from '../../src/serve/budget/redis.ts';
import { createApp, inProcessExecutor } from '../../src/serve/index.ts';
import { serviceMissing } from '../helpers/services.ts';
import { inferBody, mnistDigits, plainModel, post } from './helpers.ts';

const url = process.env.REDIS_URL_TEST;
const prefix = `hashguard:test:${crypto.randomUUID()}:`;
const digits = mnistDigits(4);
const body = (n: number) => inferBody(digits.floats.subarray(0, n * 784), { n });
const auth = { 'content-type': 'application/json', authorization: 'Bearer shared-key' };
const stores: RedisBudgetStore[] = [];

async function instance(limit = 4) {
  const store = await new RedisBudgetStore({ url: url!, prefix }).connect();
  stores.push(store);
  const app = createApp({
    models: { plain: { model: await plainModel() } },
    executor: inProcessExecutor(),
    budgets: { limit, windowMs: 60_000, store, keys: ['shared-key'] },
    log: () => {},
  });
  await app.ready;
  return { app, store };
}

afterAll(async () => {
  if (stores.length) await stores[0].clear();
  for (const s of stores) await s.close();
});

if (!url) {
  serviceMissing(
    'Redis',
    'set REDIS_URL_TEST=redis://127.0.0.1:6379 with a running redis-server (Debian package redis-server)',
  );
} else {
  describe('Redis budget store', () => {
    test('two instances share one budget', async () => {
      const a = await instance(),
        b = await instance();
      expect((await post(a.app, '/v2/models/plain/infer', body(3), auth)).status).toBe(200);
      const refused = await post(b.app, '/v2/models/plain/infer', body(2), auth);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(59);
      expect((await post(b.app, '/v2/models/plain/infer', body(1), auth)).status).toBe(200);
      expect((await post(a.app, '/v2/models/plain/infer', body(1), auth)).status).toBe(429);
    });

    test('a restarted instance keeps the counts', async () => {
      const first = await instance();
      await first.store.close(); // the old process goes away
      const restarted = await instance();
      const r = await post(restarted.app, '/v2/models/plain/infer', body(1), auth);
      expect(r.status).toBe(429);
      expect(r.json.error).toContain('4 of 4');
    });

    test('charges are atomic: 50 concurrent single queries against a limit of 20 admit exactly 20', async () => {
      const store = await new RedisBudgetStore({ url: url!, prefix }).connect();
      stores.push(store);
      const results = await Promise.all(
        Array.from({ length: 50 }, () => store.take('race', 1, 20, 60_000)),
      );
      expect(results.filter((r) => r.allowed)).toHaveLength(20);
      expect(Math.max(...results.map((r) => r.used))).toBe(20);
      await store.refund('race', 5);
      expect((await store.take('race', 5, 20, 60_000)).allowed).toBe(true);
      expect((await store.take('race', 1, 20, 60_000)).allowed).toBe(false);
    });

    test('an unreachable Redis fails closed with 503, not 500', async () => {
      const store = new RedisBudgetStore({ url: 'redis://127.0.0.1:1', prefix });
      const app = createApp({
        models: { plain: { model: await plainModel() } },
        executor: inProcessExecutor(),
        budgets: { limit: 4, windowMs: 60_000, store },
        log: () => {},
      });
      await app.ready;
      const r = await post(app, '/v2/models/plain/infer', body(1), auth);
      expect(r.status).toBe(503);
      expect(r.json.error).toBe('query budget store unavailable');
      await store.close();
    });

    test('readiness is 503 while the store is unreachable and recovers with it; budgets fail closed meanwhile', async () => {
      const server = Bun.which('redis-server');
      expect(server).not.toBeNull(); // REDIS_URL_TEST implies a redis-server on this machine
      const port = await freePort();
      const start = () =>
        Bun.spawn(
          [
            server!,
            '--port',
            String(port),
            '--bind',
            '127.0.0.1',
            '--save',
            '',
            '--appendonly',
            'no',
          ],
          { stdout: 'ignore', stderr: 'ignore' },
        );
      let proc = start();
      const store = new RedisBudgetStore({ url: `redis://127.0.0.1:${port}`, prefix });
      try {
        await eventually(() => tcpOpen(port));
        await store.connect();
        const app = createApp({
          models: { plain: { model: await plainModel() } },
          executor: inProcessExecutor(),
          budgets: { limit: 100, windowMs: 60_000, store },
          log: () => {},
        });
        await app.ready;
        expect((await app.request('/v2/health/ready')).status).toBe(200);
        expect((await post(app, '/v2/models/plain/infer', body(1), auth)).status).toBe(200);
        proc.kill('SIGKILL');
        await proc.exited;
        await eventually(async () => (await app.request('/v2/health/ready')).status === 503);
        const ready = await app.request('/v2/health/ready');
        expect(await ready.json()).toEqual({
          error: 'not ready: the query budget store is unreachable',
        });
        const refused = await post(app, '/v2/models/plain/infer', body(1), auth);
        expect(refused.status).toBe(503); // fail closed: no inference without a budget check
        proc = start();
        await eventually(
          async () => (await app.request('/v2/health/ready')).status === 200,
          15_000,
        );
        expect((await post(app, '/v2/models/plain/infer', body(1), auth)).status).toBe(200);
      } finally {
        await store.close();
        proc.kill('SIGKILL');
      }
    }, 30_000);
  });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await Bun.sleep(50);
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

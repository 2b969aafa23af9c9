// Budgets in Redis (REDIS_URL_TEST, e.g. redis://127.0.0.1:6379): two app instances share one budget, a
// restarted instance keeps the counts, and the Lua charge is atomic under concurrency. Without
// REDIS_URL_TEST these tests fail on purpose, unless HASHGUARD_SKIP_REDIS_TESTS=1 (CI starts a Redis).
import { afterAll, describe, expect, test } from 'bun:test';
import { RedisBudgetStore } from '../../src/serve/budget/redis.ts';
import { createApp, inProcessExecutor } from '../../src/serve/index.ts';
import { inferBody, mnistDigits, plainModel, post } from './helpers.ts';

const url = process.env.REDIS_URL_TEST;
const skip = process.env.HASHGUARD_SKIP_REDIS_TESTS === '1';
const prefix = `hashguard:test:${crypto.randomUUID()}:`;
const digits = mnistDigits(4);
const body = (n: number) => inferBody(digits.floats.subarray(0, n * 784), { n });
const auth = { 'content-type': 'application/json', authorization: 'Bearer shared-key' };
const stores: RedisBudgetStore[] = [];

async function instance(limit = 4) {
  const store = await new RedisBudgetStore({ url: url!, prefix }).connect();
  stores.push(store);
  const app = createApp({ models: { plain: { model: await plainModel() } }, executor: inProcessExecutor(), budgets: { limit, windowMs: 60_000, store }, log: () => {} });
  await app.ready;
  return { app, store };
}

afterAll(async () => {
  if (stores.length) await stores[0].clear();
  for (const s of stores) await s.close();
});

if (!url) {
  if (skip) test.skip('Redis budget tests (HASHGUARD_SKIP_REDIS_TESTS=1)', () => {});
  else {
    test('Redis budget tests need REDIS_URL_TEST', () => {
      throw new Error('REDIS_URL_TEST is not set: start redis-server and export REDIS_URL_TEST=redis://127.0.0.1:6379, or set HASHGUARD_SKIP_REDIS_TESTS=1 to skip these tests');
    });
  }
} else {
  describe('Redis budget store', () => {
    test('two instances share one budget', async () => {
      const a = await instance(), b = await instance();
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
      const results = await Promise.all(Array.from({ length: 50 }, () => store.take('race', 1, 20, 60_000)));
      expect(results.filter((r) => r.allowed)).toHaveLength(20);
      expect(Math.max(...results.map((r) => r.used))).toBe(20);
      await store.refund('race', 5);
      expect((await store.take('race', 5, 20, 60_000)).allowed).toBe(true);
      expect((await store.take('race', 1, 20, 60_000)).allowed).toBe(false);
    });

    test('an unreachable Redis fails closed with 503, not 500', async () => {
      const store = new RedisBudgetStore({ url: 'redis://127.0.0.1:1', prefix });
      const app = createApp({ models: { plain: { model: await plainModel() } }, executor: inProcessExecutor(), budgets: { limit: 4, windowMs: 60_000, store }, log: () => {} });
      await app.ready;
      const r = await post(app, '/v2/models/plain/infer', body(1), auth);
      expect(r.status).toBe(503);
      expect(r.json.error).toBe('query budget store unavailable');
      await store.close();
    });
  });
}

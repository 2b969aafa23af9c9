// The query-attack detector in Redis (REDIS_URL_TEST): it matches exactly as the in-memory store does, two
// instances sharing it catch an attack whose queries alternate between them as fast as one instance does, and
// an unreachable Redis fails closed (503, readiness 503). Without REDIS_URL_TEST they skip with one line.
import { afterAll, describe, expect, test } from 'bun:test';
import { Redis } from 'ioredis';
import { fingerprint, uniform } from '../../src/hash/index.ts';
import { RedisDetectStore } from '../../src/serve/detect/redis.ts';
import {
  createApp,
  DEFAULT_DETECT_SEED,
  inProcessExecutor,
  MemoryDetectStore,
  resolveDetect,
} from '../../src/serve/index.ts';
import { serviceMissing } from '../helpers/services.ts';
import { inferBody, mnistDigits, plainModel, post } from './helpers.ts';

const url = process.env.REDIS_URL_TEST;
const prefix = () => `hashguard:test:${crypto.randomUUID()}:`;
const digits = mnistDigits(12);
const row = (i: number) => digits.floats.subarray(i * 784, (i + 1) * 784);
const probe = (i: number, k: number) =>
  Float32Array.from(row(i), (v, j) =>
    Math.min(1, Math.max(0, v + (uniform(1000 * i + k, j) - 0.5) * 0.06)),
  );
const settings = resolveDetect();
const stores: RedisDetectStore[] = [];

async function redisStore(p: string, over: Partial<typeof settings> = {}) {
  const s = { ...settings, ...over, topK: settings.fingerprint.topK };
  const store = await new RedisDetectStore(s, { url: url!, prefix: p }).connect();
  stores.push(store);
  return store;
}

async function instance(store: RedisDetectStore | null) {
  const app = createApp({
    models: { plain: { model: await plainModel() } },
    executor: inProcessExecutor(),
    budgets: false,
    detect: store ? { store } : {},
    log: () => {},
  });
  await app.ready;
  return app;
}

afterAll(async () => {
  for (const s of stores) {
    await s.clear();
    await s.close();
  }
});

if (!url) {
  serviceMissing(
    'Redis',
    'set REDIS_URL_TEST=redis://127.0.0.1:6379 with a running redis-server (Debian package redis-server)',
  );
} else {
  describe('Redis detector store', () => {
    test('matches exactly as the in-memory store on a mixed sequence (own, others, batches, forgotten)', async () => {
      const over = { maxQueries: 12 };
      const redis = await redisStore(prefix(), over);
      const memory = new MemoryDetectStore({
        ...settings,
        ...over,
        topK: settings.fingerprint.topK,
      });
      const params = { ...settings.fingerprint, seed: DEFAULT_DETECT_SEED };
      const fp = (x: Float32Array) => fingerprint(x, [1, 28, 28], params);
      const steps: [string, Float32Array[], number][] = [];
      for (let k = 0; k < 30; k++) {
        const client = ['a', 'b', 'c'][k % 3];
        const rows = k % 5 === 4 ? [probe(k % 4, k), probe(k % 4, k + 100)] : [probe(k % 4, k)];
        steps.push([client, rows, 1_000 + k * 10]);
      }
      // A query whose fingerprint is much larger than the stored one it contains: the share is of the smaller.
      const top = Float32Array.from(row(6), (v, j) => (j < 8 * 28 ? v : 0));
      steps.push(['d', [top], 2_000], ['d', [row(6)], 2_010]);
      steps.push(['a', [row(0)], 1_000 + settings.historyMs + 10_000]); // everything older has expired
      for (const [client, rows, now] of steps) {
        const f = rows.map(fp);
        expect(await redis.observe(client, f, now)).toEqual(await memory.observe(client, f, now));
      }
    });

    test('client windows and bans agree with the in-memory store: last `window` verdicts, forgotten after historyMs', async () => {
      const redis = await redisStore(prefix());
      const memory = new MemoryDetectStore({ ...settings, topK: settings.fingerprint.topK });
      const s = 0x5eed;
      let t = 1_000;
      for (let k = 0; k < 60; k++) {
        const flags = Array.from({ length: 1 + (k % 3) }, (_, j) => uniform(s, 10 * k + j) < 0.3);
        t += k === 40 ? settings.historyMs + 1 : 100;
        expect(await redis.record('w', flags, t)).toEqual(await memory.record('w', flags, t));
        if (k === 25) {
          await redis.ban('w', t + 500, t);
          await memory.ban('w', t + 500, t);
          expect(await redis.bannedFor('w', t + 100)).toBe(400);
          expect(await memory.bannedFor('w', t + 100)).toBe(400);
        }
      }
    });

    test('two instances on one Redis detect an alternating attack at the same query as one instance', async () => {
      const firstRefusal = async (apps: { request: typeof fetch | any }[], address: string) => {
        for (let k = 0; k < 20; k++) {
          const app = apps[k % apps.length];
          const r = await post(app, '/v2/models/plain/infer', inferBody(probe(5, k)), undefined, {
            clientAddress: address,
          });
          if (r.status === 403) {
            expect(r.json.code).toBe('query_attack_detected');
            return k;
          }
          expect(r.status).toBe(200);
        }
        return -1;
      };
      const single = await instance(null);
      const alone = await firstRefusal([single], '10.1.0.1');
      expect(alone).toBe(settings.flagAfter);
      const shared = prefix();
      const a = await instance(await redisStore(shared)),
        b = await instance(await redisStore(shared));
      expect(await firstRefusal([a, b], '10.1.0.2')).toBe(alone);
      // The ban is fleet-wide: the other instance refuses the client too.
      const other = await post(a, '/v2/models/plain/infer', inferBody(row(9)), undefined, {
        clientAddress: '10.1.0.2',
      });
      expect(other.status).toBe(403);
      // The metric reports what the fleet holds.
      expect(await (await a.request('/metrics')).text()).toMatch(
        /hashguard_detect_store_queries \d+/,
      );
      // The shared store holds identities only as digests: the address is in no key name and no value.
      const redis = new Redis(url!);
      const names = await redis.keys(`${shared}*`);
      expect(names.length).toBeGreaterThan(0);
      for (const name of names) {
        const type = await redis.type(name);
        const values =
          type === 'hash'
            ? await redis.hgetall(name)
            : type === 'list'
              ? await redis.lrange(name, 0, -1)
              : type === 'zset'
                ? await redis.zrange(name, 0, -1)
                : type === 'set'
                  ? await redis.smembers(name)
                  : type === 'string'
                    ? [await redis.get(name)]
                    : ['?'];
        expect(`${name} ${JSON.stringify(values)}`).not.toContain('10.1.0.2');
      }
      redis.disconnect();
    });

    test('an unreachable Redis fails closed: inference 503 and readiness 503', async () => {
      const store = new RedisDetectStore(
        { ...settings, topK: settings.fingerprint.topK },
        { url: 'redis://127.0.0.1:1', prefix: prefix() },
      );
      const app = await instance(store);
      const r = await post(app, '/v2/models/plain/infer', inferBody(row(0)), undefined, {
        clientAddress: '10.1.0.3',
      });
      expect(r.status).toBe(503);
      expect(r.json.error).toBe('query detector store unavailable');
      const ready = await app.request('/v2/health/ready');
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({
        error: 'not ready: the query detector store is unreachable',
      });
      await store.close();
    });
  });
}

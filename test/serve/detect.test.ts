// Query-attack detection as a client meets it (app.request): near-copies of a client's own queries flag it after
// flagAfter, block answers 403 query_attack_detected for the ban, log answers but counts, detections reach
// /metrics and the log with the client and the evidence, other clients are untouched, and the store is bounded.
import { describe, expect, test } from 'bun:test';
import { fingerprint, uniform } from '../../src/hash/index.ts';
import {
  DEFAULT_DETECT,
  DEFAULT_DETECT_SEED,
  MemoryDetectStore,
  resolveDetect,
  type DetectStore,
  type ServeOptions,
  workerExecutor,
} from '../../src/serve/index.ts';
import { digitPng, inferBody, mnistDigits, post, testApp } from './helpers.ts';

const digits = mnistDigits(40);
const row = (i: number) => digits.floats.subarray(i * 784, (i + 1) * 784);
/** Image i with seeded noise of ±0.03 (a query attack's probe looks like this). */
const probe = (i: number, k: number) =>
  Float32Array.from(row(i), (v, j) =>
    Math.min(1, Math.max(0, v + (uniform(1000 * i + k, j) - 0.5) * 0.06)),
  );
const from = (address: string) => ({ clientAddress: address });

async function detectApp(detect: ServeOptions['detect'], now?: () => number) {
  const lines: string[] = [];
  const app = await testApp({ detect, log: (m) => lines.push(m), ...(now ? { now } : {}) });
  const infer = (x: Float32Array, address = '10.0.0.1') =>
    post(app, '/v2/models/plain/infer', inferBody(x), undefined, from(address));
  return { app, lines, infer };
}

describe('query-attack detection', () => {
  test('block: the flagAfter-th near-copy gets 403 query_attack_detected, and so does everything after it', async () => {
    const { app, lines, infer } = await detectApp({});
    expect(DEFAULT_DETECT.mode).toBe('block');
    // The first query is new; each later probe matches the client's own earlier ones.
    for (let k = 0; k < DEFAULT_DETECT.flagAfter; k++)
      expect((await infer(probe(0, k))).status).toBe(200);
    const flagged = await infer(probe(0, 99));
    expect(flagged.status).toBe(403);
    expect(flagged.json.code).toBe('query_attack_detected');
    expect(Number(flagged.headers.get('retry-after'))).toBe(DEFAULT_DETECT.banMs / 1000);
    // Banned: even an unrelated image is refused, before inference.
    const other = await infer(row(5));
    expect(other.status).toBe(403);
    expect(other.json.code).toBe('query_attack_detected');
    // Another client with ordinary traffic is untouched.
    for (let i = 10; i < 20; i++) expect((await infer(row(i), '10.0.0.2')).status).toBe(200);
    expect(lines.filter((l) => l.includes('query attack detected'))).toHaveLength(1);
    expect(lines[0]).toContain('addr:10.0.0.1');
    expect(lines[0]).toContain('5 of its last 20 queries were near-copies of recent queries');
    const metrics = await (await app.request('/metrics')).text();
    expect(metrics).toContain('hashguard_query_attacks_detected_total{mode="block"} 1');
    expect(metrics).toContain('hashguard_query_attack_refusals_total 2');
    expect(metrics).toContain('hashguard_query_attack_suspicious_queries_total 5');
    // Stored: the 6 probes (the last one too: it was judged) and the other client's 10; refused ones are not.
    expect(metrics).toContain('hashguard_detect_store_queries 16\n');
    expect(metrics).toMatch(/hashguard_detect_store_bytes \d+/);
    await app.close();
  });

  test('the ban ends after banMs; the client starts over', async () => {
    let t = 1_000_000;
    const { app, infer } = await detectApp({ banMs: 60_000, flagAfter: 2 }, () => t);
    expect((await infer(probe(1, 0))).status).toBe(200);
    expect((await infer(probe(1, 1))).status).toBe(200);
    expect((await infer(probe(1, 2))).status).toBe(403);
    t += 59_000;
    expect((await infer(row(7))).status).toBe(403);
    t += 2_000;
    expect((await infer(row(7))).status).toBe(200);
    await app.close();
  });

  test('log: answers every query, but flags, logs and counts the client once', async () => {
    const { app, lines, infer } = await detectApp({ mode: 'log' });
    for (let k = 0; k < 12; k++) expect((await infer(probe(2, k))).status).toBe(200);
    expect(lines.filter((l) => l.includes('query attack detected (log)'))).toHaveLength(1);
    const metrics = await (await app.request('/metrics')).text();
    expect(metrics).toContain('hashguard_query_attacks_detected_total{mode="log"} 1');
    expect(metrics).toContain('hashguard_query_attack_suspicious_queries_total 11');
    await app.close();
  });

  test('off: no fingerprints, no detection', async () => {
    for (const detect of [{ mode: 'off' as const }, false as const]) {
      const { app, infer } = await detectApp(detect);
      for (let k = 0; k < 10; k++) expect((await infer(probe(3, k))).status).toBe(200);
      expect(await (await app.request('/metrics')).text()).not.toContain(
        'hashguard_detect_store_queries',
      );
      await app.close();
    }
  });

  test('distinct test images from one client are not flagged', async () => {
    const { app, infer } = await detectApp({});
    for (let i = 0; i < 40; i++) expect((await infer(row(i))).status).toBe(200);
    await app.close();
  });

  test('a busy benign client is not flagged for its occasional retries: 2,000 distinct digits, 1 in 100 sent twice', async () => {
    const many = mnistDigits(2000);
    const { app, lines } = await detectApp({});
    for (let i = 0; i < 2000; i++) {
      const x = many.floats.subarray(i * 784, (i + 1) * 784);
      const r = await post(
        app,
        '/v2/models/plain/infer',
        inferBody(x),
        undefined,
        from('10.0.0.5'),
      );
      expect(r.status).toBe(200);
      if (i % 100 === 99) {
        const again = await post(
          app,
          '/v2/models/plain/infer',
          inferBody(x),
          undefined,
          from('10.0.0.5'),
        );
        expect(again.status).toBe(200);
      }
    }
    expect(lines).toHaveLength(0);
    await app.close();
  }, 60_000);

  test('uploaded images are fingerprinted after preprocessing: a PNG and its JSON twin match', async () => {
    const { app, infer } = await detectApp({ flagAfter: 3 });
    const png = digitPng(digits.bytes.subarray(8 * 784, 9 * 784), { scale: 2 });
    const upload = () =>
      post(
        app,
        '/v1/models/plain:classify',
        png,
        { 'content-type': 'image/png' },
        from('10.0.0.1'),
      );
    expect((await infer(row(8))).status).toBe(200);
    expect((await upload()).status).toBe(200);
    expect((await upload()).status).toBe(200);
    expect((await upload()).status).toBe(403);
    await app.close();
  });

  test('a batch request is judged row by row: near-copies inside one batch flag it', async () => {
    const { app } = await detectApp({});
    const x = new Float32Array(784 * 8);
    for (let k = 0; k < 8; k++) x.set(probe(4, k), k * 784);
    const r = await post(
      app,
      '/v2/models/plain/infer',
      inferBody(x, { n: 8 }),
      undefined,
      from('10.0.0.9'),
    );
    expect(r.status).toBe(403);
    expect(r.json.code).toBe('query_attack_detected');
    await app.close();
  });

  test('behind a trusted proxy, even with budgets off, X-Forwarded-For names the client', async () => {
    const app = await testApp({ detect: {}, budgets: false, trustedProxies: ['10.9.9.9'] });
    const via = (client: string, x: Float32Array) =>
      post(
        app,
        '/v2/models/plain/infer',
        inferBody(x),
        { 'content-type': 'application/json', 'x-forwarded-for': client },
        from('10.9.9.9'),
      );
    // Six near-copies, each from another client behind the proxy: nobody repeats itself.
    for (let k = 0; k < 6; k++) expect((await via(`192.0.2.${k}`, probe(6, k))).status).toBe(200);
    // One client behind it repeating itself is flagged alone.
    for (let k = 0; k < 5; k++) expect((await via('192.0.2.99', probe(7, k))).status).toBe(200);
    expect((await via('192.0.2.99', probe(7, 9))).status).toBe(403);
    expect((await via('192.0.2.98', row(11))).status).toBe(200);
    await app.close();
  });

  test('through worker threads (the serving default), the flagAfter-th near-copy of an upload gets 403 too', async () => {
    const app = await testApp({ detect: {}, executor: workerExecutor({ size: 2 }) });
    const upload = (k: number) =>
      app.request(
        '/v1/models/plain:classify',
        {
          method: 'POST',
          headers: { 'content-type': 'image/png' },
          body: digitPng(Uint8Array.from(probe(3, k), (v) => Math.round(v * 255))),
        },
        from('10.0.0.7'),
      );
    for (let k = 0; k < DEFAULT_DETECT.flagAfter; k++) expect((await upload(k)).status).toBe(200);
    const flagged = await upload(99);
    expect(flagged.status).toBe(403);
    expect(((await flagged.json()) as { code: string }).code).toBe('query_attack_detected');
    await app.close();
  });

  test('a store that fails answers 503 (fail closed), counted as shed', async () => {
    const broken: DetectStore = {
      shared: true,
      observe: () => Promise.reject(new Error('down')),
      record: () => Promise.reject(new Error('down')),
      ban: () => Promise.reject(new Error('down')),
      bannedFor: () => Promise.reject(new Error('down')),
      usage: () => ({ queries: 0, bytes: null }),
      ping: () => Promise.reject(new Error('down')),
    };
    const { app, infer } = await detectApp({ store: broken });
    const r = await infer(row(0));
    expect(r.status).toBe(503);
    expect(r.json.error).toContain('query detector store unavailable');
    expect((await app.request('/v2/health/ready')).status).toBe(503);
    expect(await (await app.request('/metrics')).text()).toContain(
      'hashguard_shed_total{reason="detect_store"} 1',
    );
    await app.close();
  });

  test('settings are checked at startup, naming the bad one', () => {
    expect(() => resolveDetect({ mode: 'on' as never })).toThrow(/detect\.mode/);
    expect(() => resolveDetect({ matchShare: 0 })).toThrow(/detect\.matchShare/);
    expect(() => resolveDetect({ maxQueries: 0 })).toThrow(/detect\.maxQueries/);
    expect(() => resolveDetect({ fingerprint: { step: 2 } })).toThrow(/fingerprint\.step/);
    // A cell's level is packed into a byte: the finest step keeps every level below 256, a finer one is refused.
    expect(() => resolveDetect({ fingerprint: { step: 1 / 254 } })).not.toThrow();
    expect(() => resolveDetect({ fingerprint: { step: 1 / 256 } })).toThrow(/fingerprint\.step/);
  });
});

describe('in-memory detector store', () => {
  const settings = { ...resolveDetect({ maxQueries: 8, maxClients: 4 }), topK: 128 };
  const params = { ...DEFAULT_DETECT.fingerprint, seed: DEFAULT_DETECT_SEED };
  const fp = (x: Float32Array) => fingerprint(x, [1, 28, 28], params);

  test('keeps only the last maxQueries fingerprints: older ones no longer match', async () => {
    const store = new MemoryDetectStore(settings);
    expect((await store.observe('a', [fp(row(0))], 0))[0]).toEqual({ own: 0, others: 0 });
    expect((await store.observe('a', [fp(probe(0, 1))], 0))[0]).toEqual({ own: 1, others: 0 });
    expect((await store.observe('b', [fp(probe(0, 2))], 0))[0]).toEqual({ own: 0, others: 2 });
    for (let i = 1; i <= 8; i++) await store.observe('c', [fp(row(i))], 0);
    expect(store.usage().queries).toBe(8);
    expect((await store.observe('a', [fp(probe(0, 3))], 0))[0]).toEqual({ own: 0, others: 0 });
  });

  test('forgets fingerprints older than historyMs', async () => {
    const store = new MemoryDetectStore(settings);
    await store.observe('a', [fp(row(0))], 0);
    expect((await store.observe('a', [fp(row(0))], settings.historyMs - 1))[0].own).toBe(1);
    expect((await store.observe('a', [fp(row(0))], 3 * settings.historyMs))[0].own).toBe(0);
  });

  test('memory is fixed at construction; client records are bounded by maxClients', async () => {
    const store = new MemoryDetectStore(settings);
    const before = store.usage().bytes;
    for (let i = 0; i < 20; i++) await store.observe(`c${i}`, [fp(row(i))], 0);
    for (let i = 0; i < 20; i++) await store.ban(`c${i}`, 10, 0);
    expect(store.usage().bytes).toBeLessThanOrEqual(before + 4 * 200);
    expect(await store.bannedFor('c19', 0)).toBe(10);
    expect(await store.bannedFor('c0', 0)).toBe(0); // dropped: the least recently seen
    const big = new MemoryDetectStore({ ...resolveDetect(), topK: 128 });
    // The default store: 20,000 fingerprints in a fixed footprint, reported.
    expect(big.usage().bytes).toBeLessThan(64 * 2 ** 20);
  });
});

// Limits enforced before inference: the bounded queue sheds with 503 + Retry-After, the deadline answers 503
// and discards the late result, and per-client fixed-window budgets answer 429 + Retry-After.
import { describe, expect, test } from 'bun:test';
import { createApp, MemoryBudgetStore, type InferenceExecutor } from '../../src/serve/index.ts';
import { Scheduler } from '../../src/serve/scheduler.ts';
import { ApiKeys, clientAddress, clientIdentity } from '../../src/serve/budget/index.ts';
import { sha256Hex } from '../../src/hash/sha256.ts';
import { inferBody, JSON_HEADERS, mnistDigits, plainModel, post, testApp } from './helpers.ts';

const INFER = '/v2/models/plain/infer';
const digits = mnistDigits(4);
const body = (n = 1) => inferBody(digits.floats.subarray(0, n * 784), { n });

/** An executor whose requests wait until released (the warm-up passes at once). */
function gatedExecutor(concurrency = 1) {
  const gates: (() => void)[] = [];
  let calls = 0;
  const executor: InferenceExecutor = {
    concurrency,
    healthy: true,
    close() {},
    async run(_network, input) {
      const n = 'n' in input ? input.n : 1;
      if (calls++ > 0) await new Promise<void>((r) => gates.push(r));
      return { kind: 'defendedForward', logits: new Float32Array(10 * n), n, backend: 'stub' };
    },
  };
  return {
    executor,
    release: () => gates.splice(0).forEach((g) => g()),
    waiting: () => gates.length,
  };
}

const proxies2 = () => ['10.0.0.1', '10.0.0.2'];
const settle = () => new Promise((r) => setTimeout(r, 5));

describe('bounded queue', () => {
  test('maxQueue 0: a request arriving while the only slot is busy is shed with 503 + Retry-After', async () => {
    const { executor, release } = gatedExecutor(1);
    const app = createApp({
      detect: false, // repeats digits on purpose; detection is tested in test/serve/detect.test.ts
      models: { plain: { model: await plainModel() } },
      executor,
      limits: { maxQueue: 0 },
    });
    await app.ready;
    const first = post(app, INFER, body());
    await settle();
    const second = await post(app, INFER, body());
    expect(second.status).toBe(503);
    expect(second.json.error).toContain('queue is full');
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    release();
    expect((await first).status).toBe(200);
    expect(await (await app.request('/metrics')).text()).toContain(
      'hashguard_shed_total{reason="queue_full"} 1',
    );
  });

  test('maxQueue 1: one request waits for the slot and is served; the next is shed', async () => {
    const { executor, release, waiting } = gatedExecutor(1);
    const app = createApp({
      detect: false, // repeats digits on purpose; detection is tested in test/serve/detect.test.ts
      models: { plain: { model: await plainModel() } },
      executor,
      limits: { maxQueue: 1 },
    });
    await app.ready;
    const a = post(app, INFER, body());
    await settle();
    const b = post(app, INFER, body());
    await settle();
    expect(app.context.scheduler.queueDepth).toBe(1);
    expect(await (await app.request('/metrics')).text()).toContain('hashguard_queue_depth 1');
    expect((await post(app, INFER, body())).status).toBe(503);
    release();
    expect((await a).status).toBe(200);
    await settle();
    expect(waiting()).toBe(1); // b reached the executor only after a finished
    release();
    expect((await b).status).toBe(200);
  });

  test('Scheduler unit: deadline while waiting removes the job; a running job keeps its slot until it ends', async () => {
    const shed: string[] = [];
    const s = new Scheduler(1, 4, (r) => shed.push(r));
    let finish!: (v: number) => void;
    const slow = s.submit(() => new Promise<number>((r) => (finish = r)), 20);
    const queued = s.submit(async () => 2, 10);
    await expect(queued).rejects.toMatchObject({ status: 503 });
    await expect(slow).rejects.toMatchObject({ status: 503 });
    expect(s.inFlight).toBe(1);
    finish(1);
    await settle();
    expect(s.inFlight).toBe(0);
    expect(shed).toEqual(['deadline', 'deadline']);
    expect(await s.submit(async () => 3, 100)).toBe(3);
  });
});

describe('deadline', () => {
  test('a request past its deadline gets 503 + Retry-After; the late result is discarded', async () => {
    const { executor, release } = gatedExecutor(1);
    const app = createApp({
      detect: false, // repeats digits on purpose; detection is tested in test/serve/detect.test.ts
      models: { plain: { model: await plainModel() } },
      executor,
      limits: { deadlineMs: 50 },
    });
    await app.ready;
    const t0 = performance.now();
    const r = await post(app, INFER, body());
    expect(r.status).toBe(503);
    expect(r.json.error).toContain('deadline of 50 ms exceeded');
    expect(r.headers.get('retry-after')).toBe('1');
    expect(performance.now() - t0).toBeLessThan(1000);
    release(); // the worker's answer arrives after the client was answered
    await settle();
    const text = await (await app.request('/metrics')).text();
    expect(text).toContain('hashguard_shed_total{reason="deadline"} 1');
    expect(text).toContain('hashguard_inflight_requests 0');
  });
});

describe('query budgets', () => {
  test('each image counts; over the limit is 429 + Retry-After and is not counted', async () => {
    const app = await testApp({ budgets: { limit: 5, windowMs: 60_000, keys: ['alice', 'bob'] } });
    const auth = { 'content-type': 'application/json', authorization: 'Bearer alice' };
    expect((await post(app, INFER, body(3), auth)).status).toBe(200);
    const over = await post(app, INFER, body(3), auth);
    expect(over.status).toBe(429);
    expect(over.json.error).toContain('query budget exhausted: 3 of 5');
    const retry = Number(over.headers.get('retry-after'));
    expect(retry).toBeGreaterThanOrEqual(59);
    expect(retry).toBeLessThanOrEqual(60);
    expect((await post(app, INFER, body(2), auth)).status).toBe(200); // the refused 3 were not charged
    expect((await post(app, INFER, body(1), auth)).status).toBe(429);
    // Another key, and a keyless client, have budgets of their own.
    expect((await post(app, INFER, body(4), { ...auth, authorization: 'Bearer bob' })).status).toBe(
      200,
    );
    expect(
      (
        await post(
          app,
          INFER,
          body(4),
          { 'content-type': 'application/json' },
          { clientAddress: '10.0.0.1' },
        )
      ).status,
    ).toBe(200);
    expect(
      (
        await post(
          app,
          INFER,
          body(4),
          { 'content-type': 'application/json' },
          { clientAddress: '10.0.0.2' },
        )
      ).status,
    ).toBe(200);
    expect(
      (
        await post(
          app,
          INFER,
          body(4),
          { 'content-type': 'application/json' },
          { clientAddress: '10.0.0.1' },
        )
      ).status,
    ).toBe(429);
    expect(await (await app.request('/metrics')).text()).toContain(
      'hashguard_budget_rejections_total 3',
    );
  });

  test(':classify charges one query per image', async () => {
    const app = await testApp({ budgets: { limit: 1, windowMs: 60_000 } });
    const { digitPng } = await import('./helpers.ts');
    const png = digitPng(digits.bytes.subarray(0, 784));
    expect(
      (await post(app, '/v1/models/plain:classify', png, { 'content-type': 'image/png' })).status,
    ).toBe(200);
    expect(
      (await post(app, '/v1/models/plain:classify', png, { 'content-type': 'image/png' })).status,
    ).toBe(429);
  });

  test('the window resets after windowMs (fixed window from the first query)', async () => {
    let now = 1_000_000;
    const app = await testApp({
      budgets: { limit: 2, windowMs: 10_000, store: new MemoryBudgetStore(() => now) },
    });
    expect((await post(app, INFER, body(2))).status).toBe(200);
    now += 4_000;
    const r = await post(app, INFER, body(1));
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('6');
    now += 6_000;
    expect((await post(app, INFER, body(2))).status).toBe(200);
  });

  test('a shed request is refunded', async () => {
    const { executor, release } = gatedExecutor(1);
    const app = createApp({
      detect: false, // repeats digits on purpose; detection is tested in test/serve/detect.test.ts
      models: { plain: { model: await plainModel() } },
      executor,
      limits: { deadlineMs: 30 },
      budgets: { limit: 1, windowMs: 60_000 },
    });
    await app.ready;
    expect((await post(app, INFER, body())).status).toBe(503);
    release();
    const again = post(app, INFER, body());
    await settle();
    release();
    expect((await again).status).toBe(200); // the budget of 1 was still there
  });

  test('with issued keys a bearer key names the budget and any other Authorization is 401; without keys it is ignored', async () => {
    const keys = await ApiKeys.from(['k1', `sha256:${await sha256Hex('k2')}`]);
    const id1 = await clientIdentity('Bearer k1', '1.2.3.4', keys);
    expect(id1).toMatch(/^key:[0-9a-f]{16}$/);
    expect(id1).toBe(`key:${(await sha256Hex('k1')).slice(0, 16)}`); // the key itself never appears
    expect(await clientIdentity('bearer   k2 ', '1.2.3.4', keys)).toBe(
      `key:${(await sha256Hex('k2')).slice(0, 16)}`,
    );
    for (const header of ['Bearer forged', 'Bearer k1x', 'Basic abc', 'Bearer', '']) {
      const e = await clientIdentity(header, '1.2.3.4', keys).then(
        () => null,
        (err) => err,
      );
      expect(e?.status).toBe(401);
      expect(e?.headers['WWW-Authenticate']).toContain('Bearer');
    }
    expect(await clientIdentity(undefined, '1.2.3.4', keys)).toBe('addr:1.2.3.4');
    expect(await clientIdentity('Bearer any', '1.2.3.4', null)).toBe('addr:1.2.3.4');
    expect(await clientIdentity('Basic abc', undefined, null)).toBe('addr:unknown');
    expect(await clientIdentity(undefined, '2001:DB8:0:1:aaaa::1', null)).toBe(
      'addr:2001:db8:0:1::/64',
    );
  });

  test('X-Forwarded-For is believed only from a trusted proxy, and only its rightmost untrusted hop', () => {
    const proxies = ['10.0.0.1', '10.0.0.2'];
    expect(clientAddress('10.0.0.1', '203.0.113.7', proxies)).toBe('203.0.113.7');
    // The client wrote a fake leftmost hop; our proxies appended the real one (and themselves).
    expect(clientAddress('10.0.0.1', '1.1.1.1, 203.0.113.7, 10.0.0.2', proxies)).toBe(
      '203.0.113.7',
    );
    expect(clientAddress('198.51.100.9', '1.1.1.1', proxies)).toBe('198.51.100.9'); // not a proxy: header ignored
    expect(clientAddress('10.0.0.1', '1.1.1.1', undefined)).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.1', 'not-an-ip', proxies)).toBe('10.0.0.1');
    expect(clientAddress('10.0.0.1', '2001:db8::1', proxies)).toBe('2001:db8::1');
    expect(clientAddress('10.0.0.1', '10.0.0.2', proxies)).toBe('10.0.0.1'); // only proxies: the peer
  });

  test('trust-proxy compares normalized addresses: IPv4-mapped IPv6, case and zero compression', () => {
    expect(clientAddress('::ffff:10.0.0.1', '203.0.113.7', ['10.0.0.1'])).toBe('203.0.113.7');
    expect(clientAddress('10.0.0.1', '203.0.113.7', ['::FFFF:10.0.0.1'])).toBe('203.0.113.7');
    expect(clientAddress('2001:DB8::0:1', '203.0.113.7', ['2001:db8:0:0:0:0:0:1'])).toBe(
      '203.0.113.7',
    );
    expect(clientAddress('[2001:db8::1]', '198.51.100.1', ['2001:0db8::0001'])).toBe(
      '198.51.100.1',
    );
    // Hops are normalized too: a proxy listed in another spelling is skipped, the client comes out canonical.
    expect(clientAddress('10.0.0.1', '::ffff:203.0.113.7, ::ffff:10.0.0.2', proxies2())).toBe(
      '203.0.113.7',
    );
    expect(clientAddress('10.0.0.1', '2001:0DB8::0001', ['10.0.0.1'])).toBe('2001:db8::1');
    // An untrusted peer is still normalized, so its spellings share one budget.
    expect(clientAddress('::ffff:198.51.100.9', undefined, undefined)).toBe('198.51.100.9');
  });

  test('behind a trusted proxy, clients get separate budgets; spoofing the header from outside does not help', async () => {
    const app = await testApp({
      budgets: { limit: 1, windowMs: 60_000, trustedProxies: ['10.0.0.1'] },
    });
    const via = (client: string, peer = '10.0.0.1') =>
      post(
        app,
        INFER,
        body(1),
        { ...JSON_HEADERS, 'x-forwarded-for': client },
        { clientAddress: peer },
      );
    expect((await via('203.0.113.1')).status).toBe(200);
    expect((await via('203.0.113.2')).status).toBe(200);
    expect((await via('203.0.113.1')).status).toBe(429);
    // A direct client rotating the header is still one address.
    expect((await via('203.0.113.3', '198.51.100.9')).status).toBe(200);
    expect((await via('203.0.113.4', '198.51.100.9')).status).toBe(429);
  });

  test('budgets can be turned off', async () => {
    const app = await testApp({ budgets: false });
    for (let i = 0; i < 3; i++) expect((await post(app, INFER, body(4))).status).toBe(200);
  });
});

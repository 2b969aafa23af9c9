// Budgets cannot be minted: a bearer token names a budget only when it is an issued key (else 401, nothing
// spent); without keys the normalized address counts (IPv6 by /64), and per-client state stays bounded.
import { describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import {
  budgetSubject,
  MemoryBudgetStore,
  normalizeAddress,
} from '../../src/serve/budget/index.ts';
import { parseServeConfig } from '../../src/serve/config.ts';
import { createApp, inProcessExecutor } from '../../src/serve/index.ts';
import { startApp } from '../../src/serve/start.ts';
import { sha256Hex } from '../../src/hash/sha256.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inferBody, mnistDigits, PLAIN_DIR, post, testApp } from './helpers.ts';

const INFER = '/v2/models/plain/infer';
const digits = mnistDigits(2);
const body = (n = 1) => inferBody(digits.floats.subarray(0, n * 784), { n });
const json = { 'content-type': 'application/json' };

describe('address normalization', () => {
  test('canonical forms', () => {
    const cases: [string, string | null][] = [
      ['10.0.0.1', '10.0.0.1'],
      ['::ffff:10.0.0.1', '10.0.0.1'],
      ['::FFFF:0a00:0001', '10.0.0.1'],
      ['0:0:0:0:0:ffff:10.0.0.1', '10.0.0.1'],
      ['[2001:DB8::1]', '2001:db8::1'],
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // the first of two equal zero runs is compressed
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
      ['fe80::1%eth0', 'fe80::1'],
      ['::', '::'],
      ['::1', '::1'],
      ['1.2.3', null],
      ['256.1.1.1', null],
      ['01.2.3.4', null],
      ['1::2::3', null],
      ['1:2:3:4:5:6:7:8:9', null],
      ['gggg::1', null],
      ['', null],
      ['unknown', null],
      ['1.2.3.4:80', null],
      ['::1.2.3.4:5', null],
    ];
    for (const [raw, want] of cases) expect([raw, normalizeAddress(raw)]).toEqual([raw, want]);
  });

  test('every spelling of an IPv6 address normalizes to one text, which parses back to itself', () => {
    const group = fc.integer({ min: 0, max: 0xffff });
    fc.assert(
      fc.property(
        fc.array(group, { minLength: 8, maxLength: 8 }),
        fc.boolean(),
        fc.boolean(),
        (g, upper, pad) => {
          const spell = g
            .map((v) => {
              const h = pad ? v.toString(16).padStart(4, '0') : v.toString(16);
              return upper ? h.toUpperCase() : h;
            })
            .join(':');
          const canonical = normalizeAddress(spell)!;
          expect(canonical).not.toBeNull();
          expect(normalizeAddress(canonical)).toBe(canonical);
          expect(canonical).toBe(canonical.toLowerCase());
          // Expanding the canonical text gives back the groups.
          const [head, tail] = canonical.includes('::') ? canonical.split('::') : [canonical, null];
          const h = head ? head.split(':') : [],
            t = tail ? tail.split(':') : [];
          const groups =
            tail === null ? h : [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t];
          if (!canonical.includes('.')) expect(groups.map((x) => parseInt(x, 16))).toEqual(g);
        },
      ),
      { numRuns: 500, seed: 19 },
    );
  });

  test('IPv6 addresses share a budget per /64; IPv4 per address', () => {
    expect(budgetSubject('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(budgetSubject('2001:DB8:1:2::9')).toBe('2001:db8:1:2::/64');
    expect(budgetSubject('2001:db8:1:3::9')).toBe('2001:db8:1:3::/64');
    expect(budgetSubject('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(budgetSubject('unknown')).toBe('unknown');
  });
});

describe('minting budgets', () => {
  test('12,000 requests with 12,000 random bearer tokens under the default configuration spend one budget', async () => {
    const { options } = parseServeConfig([], {});
    expect(options.budgets).toMatchObject({ limit: 10_000 });
    const store = new MemoryBudgetStore();
    const app = createApp({
      ...options,
      // One digit 12,000 times: detection would ban this client after a few; the budget is what is tested here.
      detect: false,
      budgets: { ...(options.budgets || {}), store },
      executor: inProcessExecutor(),
      log: () => {},
    });
    await app.ready;
    const model = Object.keys(options.models)[0];
    const payload = inferBody(digits.floats.subarray(0, 784), { n: 1 });
    const send = (i: number) =>
      app.request(
        `/v2/models/${model}/infer`,
        {
          method: 'POST',
          body: payload,
          headers: { ...json, authorization: `Bearer ${crypto.randomUUID()}-${i}` },
        },
        { clientAddress: '203.0.113.7' },
      );
    // Warm up allocator and JIT before the baseline.
    for (let i = 0; i < 200; i++) expect((await send(i)).status).toBe(200);
    Bun.gc(true);
    const heap0 = process.memoryUsage().heapUsed;
    const statuses = new Map<number, number>();
    for (let i = 200; i < 12_000; i++) {
      const r = await send(i);
      await r.arrayBuffer();
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
    Bun.gc(true);
    const grown = process.memoryUsage().heapUsed - heap0;
    expect(Object.fromEntries(statuses)).toEqual({ 200: 9_800, 429: 2_000 });
    expect(store.size).toBe(1);
    expect(grown).toBeLessThan(32 * 2 ** 20);
    await app.close();
  }, 120_000);

  test('with issued keys an unknown bearer gets 401 JSON and spends nothing; the issued key has its own budget', async () => {
    const store = new MemoryBudgetStore();
    const app = await testApp({
      budgets: { limit: 2, windowMs: 60_000, keys: ['issued-key'], store },
    });
    for (let i = 0; i < 50; i++) {
      const r = await post(
        app,
        INFER,
        body(1),
        { ...json, authorization: `Bearer forged-${i}` },
        { clientAddress: '198.51.100.1' },
      );
      expect(r.status).toBe(401);
      expect(r.json).toEqual({ error: 'unknown API key' });
      expect(r.headers.get('www-authenticate')).toContain('invalid_token');
    }
    expect(store.size).toBe(0);
    const key = { ...json, authorization: 'Bearer issued-key' };
    expect((await post(app, INFER, body(2), key, { clientAddress: '198.51.100.1' })).status).toBe(
      200,
    );
    expect((await post(app, INFER, body(1), key, { clientAddress: '198.51.100.2' })).status).toBe(
      429,
    ); // the key, not the address
    expect((await post(app, INFER, body(2), json, { clientAddress: '198.51.100.1' })).status).toBe(
      200,
    ); // no header: the address
    expect((await post(app, INFER, body(1), { ...json, authorization: 'Basic dTpw' })).status).toBe(
      401,
    );
  });

  test('a key file (plain keys and sha256 digests, comments) issues keys through the server entry path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hg-keys-'));
    try {
      const file = join(dir, 'keys');
      writeFileSync(
        file,
        `# issued 2026-12\nplain-key\n\nsha256:${await sha256Hex('hashed-key')}\n`,
      );
      const config = parseServeConfig(
        ['--api-key-file', file, '--model', `plain=${PLAIN_DIR}`, '--budget-limit', '5'],
        {},
      );
      const { app, shutdown } = await startApp({
        ...config,
        options: { ...config.options, executor: inProcessExecutor(), log: () => {} },
      });
      try {
        for (const key of ['plain-key', 'hashed-key']) {
          expect(
            (await post(app, INFER, body(1), { ...json, authorization: `Bearer ${key}` })).status,
          ).toBe(200);
        }
        expect(
          (await post(app, INFER, body(1), { ...json, authorization: 'Bearer other' })).status,
        ).toBe(401);
        expect(
          (
            await post(app, INFER, body(1), {
              ...json,
              authorization: `Bearer sha256:${await sha256Hex('hashed-key')}`,
            })
          ).status,
        ).toBe(401);
      } finally {
        await shutdown();
      }
      writeFileSync(file, '# nothing\n');
      await expect(startApp(parseServeConfig(['--api-key-file', file], {}))).rejects.toThrow(
        'no keys in it',
      );
      await expect(
        startApp(parseServeConfig(['--api-key-file', join(dir, 'absent')], {})),
      ).rejects.toThrow('API key file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('address spellings and IPv6 hosts of one /64 share a budget', async () => {
    const app = await testApp({ budgets: { limit: 2, windowMs: 60_000 } });
    expect(
      (await post(app, INFER, body(1), json, { clientAddress: '::ffff:192.0.2.1' })).status,
    ).toBe(200);
    expect((await post(app, INFER, body(1), json, { clientAddress: '192.0.2.1' })).status).toBe(
      200,
    );
    expect((await post(app, INFER, body(1), json, { clientAddress: '192.0.2.1' })).status).toBe(
      429,
    );
    expect(
      (await post(app, INFER, body(2), json, { clientAddress: '2001:db8:5:6::1' })).status,
    ).toBe(200);
    expect(
      (await post(app, INFER, body(1), json, { clientAddress: '2001:DB8:5:6:ffff::1' })).status,
    ).toBe(429);
    expect(
      (await post(app, INFER, body(1), json, { clientAddress: '2001:db8:5:7::1' })).status,
    ).toBe(200);
  });

  test('the in-memory store holds at most maxClients windows, dropping the least recently charged', async () => {
    const store = new MemoryBudgetStore(() => 0, 100);
    for (let i = 0; i < 10_000; i++) await store.take(`k${i}`, 1, 5, 60_000);
    expect(store.size).toBe(100);
    // k9900 was charged long ago relative to k9999; charge it again so it is the most recent.
    await store.take('k9900', 1, 5, 60_000);
    for (let i = 0; i < 99; i++) await store.take(`new${i}`, 1, 5, 60_000);
    expect((await store.take('k9900', 1, 5, 60_000)).used).toBe(3); // survived
    expect((await store.take('k9901', 1, 5, 60_000)).used).toBe(1); // evicted, a fresh window
    expect(store.size).toBe(100);
  });
});

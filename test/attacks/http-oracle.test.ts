// The HTTP oracle against the real app (app.request, no sockets) serving the committed mnist-lenet5: mode
// selection from metadata, exact predictions and scores, one query per row sent, batch and body splitting,
// the server's budget (429) stopping attacks, errors naming status and message, and one real Bun.serve run.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { noGrad } from '../../src/autodiff/grad.ts';
import { takeRows } from '../../src/attacks/evaluate.ts';
import { HopSkipJump } from '../../src/attacks/hopskipjump.ts';
import {
  HttpOracle,
  ServerBudgetExceeded,
  ServerDetectedAttack,
  type FetchLike,
} from '../../src/attacks/http-oracle.ts';
import { Square } from '../../src/attacks/square.ts';
import {
  argmaxRows,
  LabelOracle,
  QueryBudgetExceeded,
  ScoreOracle,
} from '../../src/attacks/target.ts';
import { successRate, type AttackResult } from '../../src/attacks/types.ts';
import type { LoadedModel } from '../../src/nn/model.ts';
import { createApp, inProcessExecutor, type ServeOptions } from '../../src/serve/index.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { mnistSubset } from '../helpers/attack-data.ts';
import { plainModel } from '../serve/helpers.ts';

let model: LoadedModel;
let x: Tensor, y: Tensor;
const apps: { close(): Promise<void> }[] = [];
beforeAll(async () => {
  model = await plainModel();
  ({ x, y } = await mnistSubset(40));
});
afterAll(async () => {
  for (const a of apps) await a.close();
});

/** An app serving the plain model as 'plain' (in-process executor; budgets off unless given). */
async function appWith(
  opts: Partial<ServeOptions> & { scores?: 'none' | 'probabilities' | 'logits' } = {},
) {
  const { scores, ...rest } = opts;
  const app = createApp({
    detect: false, // repeats digits on purpose; detection is tested in test/serve/detect.test.ts
    models: { plain: { model, scores } },
    executor: inProcessExecutor(),
    budgets: false,
    log: () => {},
    ...rest,
  });
  await app.ready;
  apps.push(app);
  return app;
}

/** A fetch over app.request that records every call: method, rows sent, body bytes, authorization. */
function recorder(app: {
  request: (url: string, init?: RequestInit) => Response | Promise<Response>;
}) {
  const calls: {
    method: string;
    rows: number;
    bytes: number;
    auth: string | null;
    status: number;
  }[] = [];
  const fetch: FetchLike = async (url, init) => {
    const body = typeof init.body === 'string' ? init.body : '';
    const res = await app.request(url, init);
    calls.push({
      method: init.method ?? 'GET',
      rows: body ? JSON.parse(body).inputs[0].shape[0] : 0,
      bytes: body.length,
      auth: new Headers(init.headers).get('authorization'),
      status: res.status,
    });
    return res;
  };
  return {
    fetch,
    calls,
    rows: () => calls.filter((c) => c.status === 200).reduce((s, c) => s + c.rows, 0),
  };
}

const URL_ = 'http://hashguard.test';
const head = (n: number) => {
  const rows = Array.from({ length: n }, (_, i) => i);
  return { x: takeRows(x, rows), y: takeRows(y, rows) };
};
const total = (r: AttackResult) => r.queries.reduce((a, b) => a + b, 0);
const logits = (t: Tensor) => noGrad(() => model.network.forward(t));

describe('mode selection', () => {
  test('scores when the deployment reveals them (logits or probabilities), labels otherwise or when asked', async () => {
    const labelsOnly = recorder(await appWith());
    const l = await HttpOracle.connect({ url: URL_, model: 'plain', fetch: labelsOnly.fetch });
    expect(l.kind).toBe('labels');
    expect(l.info.scores).toBeNull();
    expect(l.inputShape).toEqual([1, 28, 28]);
    await expect(l.scores(head(2).x)).rejects.toThrow('reveals no scores');

    for (const scores of ['logits', 'probabilities'] as const) {
      const r = recorder(await appWith({ scores }));
      const o = await HttpOracle.connect({ url: URL_, model: 'plain', fetch: r.fetch });
      expect(o.kind).toBe('scores');
      expect(o.info.scores).toBe(scores);
      const forced = await HttpOracle.connect({
        url: URL_,
        model: 'plain',
        fetch: r.fetch,
        labelsOnly: true,
      });
      expect(forced.kind).toBe('labels');
    }
    // The metadata read is not an inference: it costs no query.
    expect(l.queries).toBe(0);
  });
});

describe('queries and answers', () => {
  test("predictions and logits equal the local model's bit for bit; one query per row sent", async () => {
    const r = recorder(await appWith({ scores: 'logits' }));
    const o = await HttpOracle.connect({ url: URL_, model: 'plain', fetch: r.fetch });
    const local = logits(x);
    expect(await o.predict(x)).toEqual(argmaxRows(local));
    expect(o.queries).toBe(40);
    const z = await o.scores(x);
    expect(z.shape).toEqual([40, 10]);
    expect(Array.from(z.data)).toEqual(Array.from(local.data));
    expect(o.queries).toBe(80);
    expect(r.rows()).toBe(80);
  });

  test("probabilities: the server's softmax, argmax equal to the labels", async () => {
    const r = recorder(await appWith({ scores: 'probabilities' }));
    const o = await HttpOracle.connect({ url: URL_, model: 'plain', fetch: r.fetch });
    const p = await o.scores(x);
    for (let i = 0; i < 40; i++)
      expect(
        Array.from(p.data.subarray(i * 10, i * 10 + 10)).reduce((a, b) => a + b, 0),
      ).toBeCloseTo(1, 5);
    expect(argmaxRows(p)).toEqual(argmaxRows(logits(x)));
  });

  test("batches split by the client maxBatch, the server's advertised maxBatch and its body limit", async () => {
    const a = recorder(await appWith());
    const byClient = await HttpOracle.connect({
      url: URL_,
      model: 'plain',
      fetch: a.fetch,
      maxBatch: 16,
    });
    expect(await byClient.predict(x)).toEqual(argmaxRows(logits(x)));
    expect(a.calls.filter((c) => c.method === 'POST').map((c) => c.rows)).toEqual([16, 16, 8]);

    const b = recorder(await appWith({ limits: { maxBatch: 7 } }));
    const byServer = await HttpOracle.connect({ url: URL_, model: 'plain', fetch: b.fetch });
    expect(byServer.info.maxBatch).toBe(7);
    expect(await byServer.predict(x)).toEqual(argmaxRows(logits(x)));
    expect(b.calls.filter((c) => c.method === 'POST').map((c) => c.rows)).toEqual([
      7, 7, 7, 7, 7, 5,
    ]);

    // A 30 kB body limit fits only a few 784-pixel rows per request; none may be refused with 413.
    const c = recorder(await appWith({ limits: { maxBodyBytes: 30_000 } }));
    const byBody = await HttpOracle.connect({ url: URL_, model: 'plain', fetch: c.fetch });
    expect(await byBody.predict(x)).toEqual(argmaxRows(logits(x)));
    const posts = c.calls.filter((k) => k.method === 'POST');
    expect(posts.length).toBeGreaterThan(3);
    for (const p of posts) {
      expect(p.status).toBe(200);
      expect(p.bytes).toBeLessThanOrEqual(30_000);
    }
    expect(byBody.queries).toBe(40);
  });

  test('Square over HTTP equals Square on a local ScoreOracle (same seed, logits), every query charged', async () => {
    const r = recorder(await appWith({ scores: 'logits' }));
    const o = await HttpOracle.connect({ url: URL_, model: 'plain', fetch: r.fetch });
    const { x: xs, y: ys } = head(20);
    const attack = new Square({ eps: 0.3, maxQueries: 200, seed: 1 });
    const remote = await attack.run(o, xs, ys);
    const local = await attack.run(new ScoreOracle(model.network), xs, ys);
    expect(remote.success).toEqual(local.success);
    expect(remote.queries).toEqual(local.queries);
    expect(Array.from(remote.xAdv.data)).toEqual(Array.from(local.xAdv.data));
    expect(successRate(remote)).toBeGreaterThan(0.5);
    expect(total(remote)).toBe(o.queries);
    expect(r.rows()).toBe(o.queries);
  }, 60_000);

  test('HopSkipJump through labels over HTTP equals HopSkipJump on a local LabelOracle', async () => {
    const r = recorder(await appWith());
    const o = await HttpOracle.connect({ url: URL_, model: 'plain', fetch: r.fetch });
    const { x: xs, y: ys } = head(4);
    const attack = new HopSkipJump({ norm: 'linf', maxQueries: 300, seed: 2 });
    const remote = await attack.run(o, xs, ys);
    const local = await attack.run(new LabelOracle(model.network), xs, ys);
    expect(remote.success).toEqual(local.success);
    expect(remote.norms.linf).toEqual(local.norms.linf);
    expect(total(remote)).toBe(o.queries);
    expect(r.rows()).toBe(o.queries);
  }, 60_000);
});

describe('budgets', () => {
  test("the server's 429 stops Square with QueryBudgetExceeded; the client counted what the server did", async () => {
    const app = await appWith({ scores: 'logits', budgets: { limit: 500 } });
    const r = recorder(app);
    const o = await HttpOracle.connect({ url: URL_, model: 'plain', fetch: r.fetch });
    // A small ε keeps most images unbroken, so the attack wants more than 500 queries.
    const err = await new Square({ eps: 0.05, maxQueries: 1000, seed: 1 })
      .run(o, head(10).x, head(10).y)
      .then(
        () => null,
        (e) => e,
      );
    expect(err).toBeInstanceOf(QueryBudgetExceeded);
    expect(err).toBeInstanceOf(ServerBudgetExceeded);
    expect((err as ServerBudgetExceeded).budget).toBe(500);
    expect(err.message).toContain('429');
    expect(o.queries).toBeLessThanOrEqual(500);
    expect(o.queries).toBeGreaterThan(400);
    // The server's own count of this client equals the oracle's.
    const probe = await app.request('/v2/models/plain/infer', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [
          {
            name: 'input',
            shape: [1, 1, 28, 28],
            datatype: 'FP32',
            data: Array.from(x.data.subarray(0, 784)),
          },
        ],
      }),
    });
    expect(probe.status).toBe(429);
    expect((await probe.json()).error).toContain(`${o.queries} of 500 images used`);
  }, 60_000);

  test("the server's query-attack detector (403 query_attack_detected) stops Square like a budget, within a few queries", async () => {
    const app = await appWith({ scores: 'logits', detect: {} });
    const o = await HttpOracle.connect({ url: URL_, model: 'plain', fetch: recorder(app).fetch });
    // A small ε keeps the image unbroken, so Square goes on sending near-copies of it.
    const err = await new Square({ eps: 0.05, maxQueries: 1000, seed: 1 })
      .run(o, head(1).x, head(1).y)
      .then(
        () => null,
        (e) => e,
      );
    expect(err).toBeInstanceOf(QueryBudgetExceeded);
    expect(err).toBeInstanceOf(ServerDetectedAttack);
    expect((err as ServerDetectedAttack).retryAfterS).toBe(3600);
    expect(err.message).toContain('query-attack detector refused this client (403)');
    expect(o.queries).toBeLessThanOrEqual(10);
  }, 60_000);

  test('a client-side budget ends the attack with a partial result (reserve keeps the final check)', async () => {
    const r = recorder(await appWith({ scores: 'logits' }));
    const o = await HttpOracle.connect({ url: URL_, model: 'plain', fetch: r.fetch, budget: 300 });
    const res = await new Square({ eps: 0.05, maxQueries: 1000, seed: 1 }).run(
      o,
      head(10).x,
      head(10).y,
    );
    expect(res.success).toHaveLength(10);
    expect(o.queries).toBeLessThanOrEqual(300);
    expect(o.queries).toBeGreaterThan(250);
    expect(total(res)).toBe(o.queries);
    expect(r.rows()).toBe(o.queries);
    await expect(o.predict(head(1).x)).rejects.toBeInstanceOf(QueryBudgetExceeded);
    expect(r.rows()).toBe(o.queries); // refused before anything was sent
  }, 60_000);

  test('the API key goes out as a bearer token and names its own server budget', async () => {
    const app = await appWith({ budgets: { limit: 40, keys: ['k1', 'k2'] } });
    const r = recorder(app);
    const k1 = await HttpOracle.connect({
      url: URL_,
      model: 'plain',
      fetch: r.fetch,
      apiKey: 'k1',
    });
    await k1.predict(x);
    expect(r.calls.map((c) => c.auth)).toEqual(['Bearer k1', 'Bearer k1']); // metadata, then the infer
    await expect(k1.predict(head(1).x)).rejects.toBeInstanceOf(ServerBudgetExceeded);
    const k2 = await HttpOracle.connect({
      url: URL_,
      model: 'plain',
      fetch: r.fetch,
      apiKey: 'k2',
    });
    expect(await k2.predict(x)).toEqual(argmaxRows(logits(x)));
  });
});

describe('errors', () => {
  test("an unknown model and other HTTP errors name the status and the server's message", async () => {
    const r = recorder(await appWith());
    await expect(HttpOracle.connect({ url: URL_, model: 'nope', fetch: r.fetch })).rejects.toThrow(
      /GET .*\/v2\/models\/nope → 404: .*nope/,
    );
    const info = (await HttpOracle.connect({ url: URL_, model: 'plain', fetch: r.fetch })).info;
    const failing: FetchLike = () =>
      new Response(JSON.stringify({ error: 'input shape is odd' }), {
        status: 400,
        headers: { 'content-type': 'application/json' },
      });
    const o = new HttpOracle({ url: URL_, model: 'plain', fetch: failing }, info);
    await expect(o.predict(head(2).x)).rejects.toThrow('→ 400: input shape is odd');
    expect(o.queries).toBe(0);
    const down = new HttpOracle(
      { url: URL_, model: 'plain', fetch: () => Promise.reject(new Error('connection refused')) },
      info,
    );
    await expect(down.predict(head(1).x)).rejects.toThrow('failed: connection refused');
  });

  test('a 503 is retried after Retry-After, up to `retries` times', async () => {
    const app = await appWith();
    const info = (
      await HttpOracle.connect({ url: URL_, model: 'plain', fetch: (u, i) => app.request(u, i) })
    ).info;
    let calls = 0;
    const flaky =
      (failures: number): FetchLike =>
      async (url, init) => {
        calls++;
        return calls <= failures
          ? new Response('{"error":"queue full"}', { status: 503, headers: { 'retry-after': '1' } })
          : app.request(url, init);
      };
    const o = new HttpOracle(
      { url: URL_, model: 'plain', fetch: flaky(2), retries: 2, maxRetryDelayMs: 0 },
      info,
    );
    expect(await o.predict(head(3).x)).toEqual(argmaxRows(logits(head(3).x)));
    expect(calls).toBe(3);
    calls = 0;
    const o2 = new HttpOracle(
      { url: URL_, model: 'plain', fetch: flaky(3), retries: 2, maxRetryDelayMs: 0 },
      info,
    );
    await expect(o2.predict(head(3).x)).rejects.toThrow('→ 503: queue full');
    expect(o2.queries).toBe(0);
  });
});

describe('over a real port', () => {
  test('Bun.serve on port 0: metadata, predictions and a short Square run through the global fetch', async () => {
    const app = await appWith({ scores: 'probabilities', budgets: { limit: 5000 } });
    const server = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: (req, srv) => app.fetch(req, { clientAddress: srv.requestIP(req)?.address }),
    });
    try {
      const o = await HttpOracle.connect({
        url: `http://127.0.0.1:${server.port}/`,
        model: 'plain',
      });
      expect(o.kind).toBe('scores');
      expect(await o.predict(x)).toEqual(argmaxRows(logits(x)));
      const r = await new Square({ eps: 0.3, maxQueries: 100, seed: 3 }).run(
        o,
        head(8).x,
        head(8).y,
      );
      expect(total(r)).toBe(o.queries - 40);
      expect(successRate(r)).toBeGreaterThan(0);
    } finally {
      server.stop(true);
    }
  }, 60_000);
});

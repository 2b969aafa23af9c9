// Every endpoint's happy path through app.request(), on the real worker executor: health, metadata,
// readiness, OIP v2 infer (flat, nested, UINT8), scores policy, robustness lookup, OpenAPI and metrics.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../../src/tensor/tensor.ts';
import { createApp, workerExecutor, type HashguardApp } from '../../src/serve/index.ts';
import { giModel, inferBody, mnistDigits, plainModel, post } from './helpers.ts';

const auditDir = mkdtempSync(join(tmpdir(), 'hashguard-audit-'));
let app: HashguardApp, scored: HashguardApp;
const digits = mnistDigits(8);

beforeAll(async () => {
  const plain = await plainModel(),
    gi = await giModel();
  const executor = workerExecutor({ size: 1 });
  app = createApp({
    detect: false, // repeats digits on purpose; detection is tested in test/serve/detect.test.ts
    models: { plain: { model: plain }, gi: { model: gi } },
    executor,
    auditDir,
    log: () => {},
  });
  scored = createApp({
    detect: false, // repeats digits on purpose; detection is tested in test/serve/detect.test.ts
    models: {
      plain: { model: plain, scores: 'probabilities' },
      raw: { model: plain, scores: 'logits' },
    },
    executor,
    auditDir,
    log: () => {},
  });
  await Promise.all([app.ready, scored.ready]);
}, 30_000);
afterAll(async () => {
  await app.context.executor.close();
  rmSync(auditDir, { recursive: true, force: true });
});

const expected = async () =>
  Array.from((await plainModel()).network.predict(new Tensor([8, 1, 28, 28], digits.floats)));

describe('health and metadata', () => {
  test('live and ready', async () => {
    expect(await (await app.request('/v2/health/live')).json()).toEqual({ live: true });
    const r = await app.request('/v2/health/ready');
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ ready: true });
  });

  test('model metadata names shapes, outputs, defense, backend and weights', async () => {
    const gi = await giModel();
    const r = await app.request('/v2/models/gi');
    expect(r.status).toBe(200);
    const m = await r.json();
    expect(m).toMatchObject({
      name: 'gi',
      platform: 'hashguard',
      versions: [gi.manifest.weights.sha256.slice(0, 12)],
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 1, 28, 28] }],
      outputs: [{ name: 'labels', datatype: 'INT64', shape: [-1] }],
      defense: gi.manifest.defense,
      randomized: true,
      weightsSha256: gi.manifest.weights.sha256,
    });
    expect(m.backend).toMatch(/^cpu-/); // reported by the worker that ran the warm-up
    const plain = await (await app.request('/v2/models/plain')).json();
    expect(plain.defense).toBeNull();
    expect(plain.randomized).toBe(false);
    expect(plain.inputs[0].parameters).toMatchObject({ range: [0, 1], background: 'dark' }); // the input convention
    const withScores = await (await scored.request('/v2/models/plain')).json();
    expect(withScores.outputs).toEqual([
      { name: 'labels', datatype: 'INT64', shape: [-1] },
      { name: 'probabilities', datatype: 'FP32', shape: [-1, 10] },
    ]);
  });

  test('model ready', async () => {
    const r = await app.request('/v2/models/plain/ready');
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ name: 'plain', ready: true });
  });
});

describe('infer', () => {
  test("FP32 flat batch: labels only by default, equal to the model's predictions", async () => {
    const r = await post(
      app,
      '/v2/models/plain/infer',
      JSON.stringify({
        id: 'req-1',
        inputs: [
          {
            name: 'input',
            shape: [8, 1, 28, 28],
            datatype: 'FP32',
            data: Array.from(digits.floats),
          },
        ],
      }),
    );
    expect(r.status).toBe(200);
    expect(r.json.model_name).toBe('plain');
    expect(r.json.id).toBe('req-1');
    expect(r.json.outputs).toHaveLength(1);
    expect(r.json.outputs[0]).toMatchObject({ name: 'labels', datatype: 'INT64', shape: [8] });
    expect(r.json.outputs[0].data).toEqual(await expected());
  });

  test('nested data gives the same labels as flat data', async () => {
    const nested = Array.from({ length: 8 }, (_, n) => [
      Array.from({ length: 28 }, (_, y) =>
        Array.from(digits.floats.subarray(n * 784 + y * 28, n * 784 + y * 28 + 28)),
      ),
    ]);
    const r = await post(
      app,
      '/v2/models/plain/infer',
      JSON.stringify({
        inputs: [{ name: 'input', shape: [8, 1, 28, 28], datatype: 'FP32', data: nested }],
      }),
    );
    expect(r.status).toBe(200);
    expect(r.json.outputs[0].data).toEqual(await expected());
  });

  test('UINT8 bytes and FP32 x/255 give identical logits', async () => {
    const a = await post(
      scored,
      '/v2/models/raw/infer',
      inferBody(digits.bytes, { datatype: 'UINT8' }),
    );
    const b = await post(scored, '/v2/models/raw/infer', inferBody(digits.floats));
    expect(a.status).toBe(200);
    expect(a.json.outputs.map((o: { name: string }) => o.name)).toEqual(['labels', 'logits']);
    expect(a.json.outputs[1].data).toEqual(b.json.outputs[1].data);
    expect(a.json.outputs[0].data).toEqual(await expected());
  });

  test('scores only where allowed: probabilities sum to 1; logits match the in-process model', async () => {
    const p = await post(scored, '/v2/models/plain/infer', inferBody(digits.floats));
    const probs = p.json.outputs[1];
    expect(probs).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [8, 10] });
    for (let i = 0; i < 8; i++)
      expect(
        probs.data.slice(i * 10, i * 10 + 10).reduce((s: number, v: number) => s + v, 0),
      ).toBeCloseTo(1, 6);
    const l = await post(
      scored,
      '/v2/models/raw/infer',
      inferBody(digits.floats, { outputs: ['logits'] }),
    );
    expect(l.json.outputs.map((o: { name: string }) => o.name)).toEqual(['logits']);
    const local = (await plainModel()).network.forward(
      new Tensor([8, 1, 28, 28], digits.floats),
    ).data;
    l.json.outputs[0].data.forEach((v: number, i: number) =>
      expect(Math.abs(v - local[i])).toBeLessThan(1e-4),
    );
    // The default deployment refuses to reveal scores, even when asked.
    const refused = await post(
      app,
      '/v2/models/plain/infer',
      inferBody(digits.floats, { outputs: ['probabilities'] }),
    );
    expect(refused.status).toBe(400);
    expect(refused.json.error).toContain("output 'probabilities' is not served");
  });
});

describe('robustness, openapi, metrics', () => {
  test('robustness: 404 without an audit for these weights, else the newest matching report', async () => {
    const sha = (await plainModel()).manifest.weights.sha256;
    const none = await app.request('/v2/models/plain/robustness');
    expect(none.status).toBe(404);
    expect(await none.json()).toEqual({ error: `no audit for weights ${sha}` });
    writeFileSync(
      join(auditDir, 'old.json'),
      JSON.stringify({ weightsSha256: sha, createdAt: '2024-01-01T00:00:00Z', tag: 'old' }),
    );
    writeFileSync(
      join(auditDir, 'new.json'),
      JSON.stringify({ weightsSha256: sha, createdAt: '2025-01-01T00:00:00Z', tag: 'new' }),
    );
    writeFileSync(
      join(auditDir, 'other.json'),
      JSON.stringify({
        weightsSha256: '0'.repeat(64),
        createdAt: '2026-01-01T00:00:00Z',
        tag: 'other',
      }),
    );
    writeFileSync(join(auditDir, 'broken.json'), '{not json');
    const r = await app.request('/v2/models/plain/robustness');
    expect(r.status).toBe(200);
    const body = await r.json();
    expect(body).toMatchObject({
      model: 'plain',
      weightsSha256: sha,
      file: 'new.json',
      audit: { tag: 'new' },
    });
    expect((await app.request('/v2/models/gi/robustness')).status).toBe(404);
  });

  test('openapi.json is OpenAPI 3.1 and lists every route', async () => {
    const r = await app.request('/openapi.json');
    expect(r.status).toBe(200);
    const doc = await r.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/',
      '/demo/page.js',
      '/demo/worker.js',
      '/metrics',
      '/openapi.json',
      '/v1/models/{model}:classify',
      '/v2/health/live',
      '/v2/health/ready',
      '/v2/models/{model}',
      '/v2/models/{model}/infer',
      '/v2/models/{model}/model.json',
      '/v2/models/{model}/ready',
      '/v2/models/{model}/robustness',
      '/v2/models/{model}/robustness/report',
      '/v2/models/{model}/weights.safetensors',
    ]);
    // Every route the app registers is documented (Hono ':name' ↔ OpenAPI '{model}').
    const documented = new Set(
      Object.keys(doc.paths).map((p) =>
        p.replace('{model}:classify', ':target').replace('{model}', ':name'),
      ),
    );
    for (const route of app.routes)
      if (route.path !== '/*' && route.method !== 'ALL')
        expect(documented.has(route.path)).toBe(true);
  });

  test('metrics expose the documented series', async () => {
    await app.request('/no/such/path');
    const r = await app.request('/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/plain');
    const text = await r.text();
    for (const line of [
      '# TYPE hashguard_http_requests_total counter',
      'hashguard_http_requests_total{route="/v2/models/:name/infer",method="POST",status="200"}',
      'hashguard_http_requests_total{route="/v2/models/:name/infer",method="POST",status="400"} 1',
      'hashguard_http_requests_total{route="unmatched",method="GET",status="404"} 1',
      '# TYPE hashguard_http_request_duration_seconds histogram',
      'hashguard_http_request_duration_seconds_bucket{route="/v2/models/:name/infer",le="+Inf"}',
      'hashguard_http_request_duration_seconds_count{route="/v2/models/:name/infer"}',
      'hashguard_queue_depth 0',
      'hashguard_inflight_requests 0',
      'hashguard_shed_total{reason="queue_full"} 0',
      'hashguard_shed_total{reason="deadline"} 0',
      'hashguard_budget_rejections_total 0',
      'hashguard_images_inferred_total{model="plain"}',
    ])
      expect(text).toContain(line);
    expect(text).toMatch(/hashguard_backend_info\{model="gi",backend="cpu-[a-z-]+"\} 1/);
  });
});

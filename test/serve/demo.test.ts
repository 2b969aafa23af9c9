// The demo page's server side (app.request): the page and its scripts (built, prebuilt, or a notice when neither
// exists), the script bundle's size and purity, the model files the page's worker loads and their gates, the
// audit report route, and the drawing pad's conversion to a model input.
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drawingToInput } from '../../src/serve/demo/index.ts';
import { decodeModel } from '../../src/nn/index.ts';
import {
  bundleDemo,
  DEMO_SCRIPTS,
  type BrowserBundler,
  type DemoScripts,
} from '../../src/serve/index.ts';
import { giModel, inferBody, mnistDigits, plainModel, post, ROOT, testApp } from './helpers.ts';
import { loadModel } from '../../src/node.ts';

const tmp = mkdtempSync(join(tmpdir(), 'hashguard-demo-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const build = () => bundleDemo(Bun.build as unknown as BrowserBundler);
let built: Promise<DemoScripts> | null = null;
const scripts = () => (built ??= build());

/** The page's embedded configuration. */
const configOf = (html: string) =>
  JSON.parse(/<script type="application\/json" id="demo-config">(.*?)<\/script>/s.exec(html)![1]);

describe('the script bundle', () => {
  test('page.js and worker.js build for browsers: no node: import, no URL import, under 1 MB gzip together', async () => {
    const t0 = performance.now();
    const files = await scripts();
    const ms = performance.now() - t0;
    const sizes = DEMO_SCRIPTS.map((f) => ({
      f,
      raw: files[f].length,
      gzip: Bun.gzipSync(files[f]).length,
    }));
    console.log(
      `demo bundle (${ms.toFixed(0)} ms): ${sizes.map((s) => `${s.f} ${(s.raw / 1024).toFixed(1)} KiB raw, ${(s.gzip / 1024).toFixed(1)} KiB gzip`).join('; ')}`,
    );
    const gzip = sizes.reduce((a, s) => a + s.gzip, 0);
    expect(gzip).toBeLessThan(1_000_000);
    // The whole core is in the worker (not an empty shell), the page is small.
    expect(files['worker.js'].length).toBeGreaterThan(100_000);
    expect(files['page.js'].length).toBeLessThan(100_000);
    for (const f of DEMO_SCRIPTS) {
      const text = new TextDecoder().decode(files[f]);
      expect(text).not.toMatch(/from\s*["']node:|import\(["']node:|require\(["']node:/);
      expect(text).not.toMatch(/(from\s*|import\(\s*)["'](https?:)?\/\//);
    }
  }, 60_000);
});

describe('the page and its scripts', () => {
  test('GET / is the page (own-origin CSP, no external URL), listing the models; the scripts are served', async () => {
    const app = await testApp({ demo: { build: scripts, dir: join(tmp, 'none') } });
    const r = await app.request('/');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/html');
    expect(r.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await r.text();
    expect(html).toContain('<script type="module" src="/demo/page.js"></script>');
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    const config = configOf(html);
    expect(config.models.map((m: { name: string }) => m.name)).toEqual(['plain', 'gi']);
    expect(config.models[0]).toMatchObject({ ready: true, filesRefused: null });
    for (const f of DEMO_SCRIPTS) {
      const s = await app.request(`/demo/${f}`);
      expect(s.status).toBe(200);
      expect(s.headers.get('content-type')).toContain('text/javascript');
      expect(new Uint8Array(await s.arrayBuffer())).toEqual((await scripts())[f]);
    }
  });

  test('without a build, the prebuilt directory is served; a failing build falls back to it, logged once', async () => {
    const dir = join(tmp, 'prebuilt');
    mkdirSync(dir, { recursive: true });
    for (const f of DEMO_SCRIPTS) writeFileSync(join(dir, f), `// prebuilt ${f}\n`);
    const lines: string[] = [];
    let builds = 0;
    const app = await testApp({
      log: (m) => lines.push(m),
      demo: {
        dir,
        build: async () => {
          builds++;
          throw new Error('no bundler here');
        },
      },
    });
    for (let i = 0; i < 2; i++)
      expect(await (await app.request('/demo/page.js')).text()).toBe('// prebuilt page.js\n');
    expect(builds).toBe(1);
    expect(lines).toEqual([`hashguard serve: demo bundle: no bundler here; serving ${dir}`]);
  });

  test('neither built nor prebuilt: the page says how to build it (200, no script), the scripts 404', async () => {
    const app = await testApp({ demo: { dir: join(tmp, 'missing') } });
    const r = await app.request('/');
    expect(r.status).toBe(200);
    const html = await r.text();
    expect(html).toContain('npm run build:package');
    expect(html).not.toContain('<script');
    const g = await app.request('/demo/worker.js');
    expect(g.status).toBe(404);
    expect((await g.json()).error).toContain('npm run build:package');
  });

  test('demo: false serves no page and no model files', async () => {
    const app = await testApp({ demo: false });
    expect((await app.request('/')).status).toBe(404);
    expect((await app.request('/v2/models/plain/model.json')).status).toBe(404);
  });
});

describe('model files', () => {
  test('model.json and weights.safetensors decode to the served model: same weights hash, same logits', async () => {
    const app = await testApp({ demo: { dir: tmp } });
    for (const [name, model] of [
      ['plain', await plainModel()],
      ['gi', await giModel()],
    ] as const) {
      const json = await (await app.request(`/v2/models/${name}/model.json`)).text();
      const w = await app.request(`/v2/models/${name}/weights.safetensors`);
      expect(w.headers.get('content-type')).toBe('application/octet-stream');
      const copy = await decodeModel(json, new Uint8Array(await w.arrayBuffer()), name);
      expect(copy.manifest.weights.sha256).toBe(model.manifest.weights.sha256);
      expect(copy.manifest.defense).toEqual(model.manifest.defense);
      const meta = await (await app.request(`/v2/models/${name}`)).json();
      expect(meta.weightsSha256).toBe(copy.manifest.weights.sha256);
    }
  });

  test('--no-model-files: 404 and the page says why; secret hash seeds: never published (403)', async () => {
    const off = await testApp({ demo: { build: scripts, modelFiles: false } });
    const r = await off.request('/v2/models/plain/weights.safetensors');
    expect(r.status).toBe(404);
    expect((await r.json()).error).toContain('--no-model-files');
    expect(configOf(await (await off.request('/')).text()).models[0].filesRefused).toContain(
      '--no-model-files',
    );
    const plain = await plainModel();
    const secret = {
      ...plain,
      manifest: {
        ...plain.manifest,
        provenance: { ...plain.manifest.provenance!, hash: { secretSeeds: true } },
      },
    };
    const app = await testApp({ demo: { dir: tmp }, models: { s: { model: secret } } });
    const s = await app.request('/v2/models/s/model.json');
    expect(s.status).toBe(403);
    expect((await s.json()).error).toContain('secret hash seeds');
  });

  test('the inference gates hold: 401 for a bearer that is no issued key, 403 while the detector bans the client', async () => {
    const app = await testApp({
      demo: { dir: tmp },
      budgets: { keys: ['k-1'] },
      detect: { mode: 'block', flagAfter: 2, window: 4 },
    });
    const from = { clientAddress: '10.0.0.9' };
    const get = (headers: Record<string, string> = {}) =>
      app.request('/v2/models/plain/model.json', { headers }, from);
    expect((await get({ authorization: 'Bearer nope' })).status).toBe(401);
    expect((await get({ authorization: 'Bearer k-1' })).status).toBe(200);
    expect((await get()).status).toBe(200);
    const x = mnistDigits(1).floats;
    let status = 200;
    for (let i = 0; i < 4 && status === 200; i++)
      status = (await post(app, '/v2/models/plain/infer', inferBody(x), undefined, from)).status;
    expect(status).toBe(403);
    const banned = await get();
    expect(banned.status).toBe(403);
    expect((await banned.json()).code).toBe('query_attack_detected');
  });
});

describe('the audit report', () => {
  test('the served default links its audit: /robustness/report is the HTML beside the matched JSON', async () => {
    const model = await loadModel(join(ROOT, 'models/mnist-cnn-h8-at-gi'));
    const app = await testApp({
      demo: { build: scripts },
      auditDir: join(ROOT, 'docs/audit'),
      models: { d: { model } },
    });
    expect(configOf(await (await app.request('/')).text()).models[0].audit).toEqual({
      file: 'mnist-cnn.json',
      configuration: 'hashed AT+GI random',
      report: '/v2/models/d/robustness/report',
    });
    const r = await app.request('/v2/models/d/robustness/report');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await r.text();
    expect(html).toContain('<svg');
    // Nothing that runs or loads from elsewhere (links to read elsewhere are fine).
    expect(html).not.toMatch(
      /<script|<link[^>]+href=["']?(https?:)?\/\/|src=["']?(https?:)?\/\/|url\(["']?(https?:)?\/\//,
    );
    const none = await testApp({ demo: { dir: tmp } });
    expect((await none.request('/v2/models/plain/robustness/report')).status).toBe(404);
  });
});

describe('drawingToInput', () => {
  const pad = (paint: (x: number, y: number) => boolean, size = 280) =>
    Float32Array.from({ length: size * size }, (_, i) =>
      paint(i % size, Math.floor(i / size)) ? 1 : 0,
    );

  test('an empty pad is the background; light models get dark strokes on white', () => {
    expect(
      drawingToInput(
        pad(() => false),
        280,
        280,
        [1, 28, 28],
      ).every((v) => v === 0),
    ).toBe(true);
    const light = drawingToInput(
      pad(() => false),
      280,
      280,
      [1, 28, 28],
      'light',
    );
    expect(light.every((v) => v === 1)).toBe(true);
  });

  test('a stroke anywhere is scaled to 20 of 28 pixels and centred by its mass', () => {
    // A vertical bar in the pad's top-left corner, 20 wide and 200 tall.
    const x = drawingToInput(
      pad((px, py) => px >= 10 && px < 30 && py >= 5 && py < 205),
      280,
      280,
      [1, 28, 28],
    );
    let m = 0,
      cx = 0,
      cy = 0,
      rows = new Set<number>();
    for (let i = 0; i < 784; i++) {
      m += x[i];
      cx += x[i] * ((i % 28) + 0.5);
      cy += x[i] * (Math.floor(i / 28) + 0.5);
      if (x[i] > 0.5) rows.add(Math.floor(i / 28));
    }
    expect(cx / m).toBeCloseTo(14, 5);
    expect(cy / m).toBeCloseTo(14, 5);
    expect(rows.size).toBe(20);
    // Area averaging keeps the ink: 20×200 pixels at scale 0.1 → 2×20 = 40.
    expect(m).toBeCloseTo(40, 3);
  });

  test('three channels repeat the grey value; other shapes are refused', () => {
    const x = drawingToInput(
      pad((px) => px > 100 && px < 140),
      280,
      280,
      [3, 32, 32],
    );
    expect(Array.from(x.subarray(0, 1024))).toEqual(Array.from(x.subarray(2048)));
    expect(() =>
      drawingToInput(
        pad(() => false),
        280,
        280,
        [784],
      ),
    ).toThrow(/not an image/);
  });
});

// The demo page in headless chromium against the real app on a free port: a digit drawn with pointer events and
// the sample PNG uploaded get their labels, PGD in the page's worker stays within ε, WebGPU (SwiftShader) gives
// the WASM path's labels and logits, and the attack through the API reports its queries (and a block as a block).
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import {
  bundleDemo,
  createApp,
  inProcessExecutor,
  type BrowserBundler,
  type HashguardApp,
  type ServeOptions,
} from '../../src/serve/index.ts';
import {
  assertClean,
  BROWSER_TIMEOUT_MS,
  describeBrowser,
  launchBrowser,
  newCheckedPage,
  pageProblems,
  saveScreenshot,
  startTestServer,
  type TestServer,
} from './browser.ts';

const ROOT = join(import.meta.dir, '../..');
const DEFAULT = 'mnist-cnn-h8-at-gi';
const CERTIFIED = 'mnist-cnn-ibp';
const SAMPLE = join(ROOT, 'examples/digit-7.png');
const scripts = bundleDemo(Bun.build as unknown as BrowserBundler);

/** The app as `bun run serve` makes it, on a free port: the default model, plus a certified one with scores. */
async function serve(
  detect: ServeOptions['detect'],
): Promise<{ app: HashguardApp; server: TestServer }> {
  const app = createApp({
    models: {
      [DEFAULT]: { dir: join(ROOT, 'models', DEFAULT) },
      [CERTIFIED]: { dir: join(ROOT, 'models', CERTIFIED), scores: 'probabilities' },
    },
    executor: inProcessExecutor(),
    auditDir: join(ROOT, 'docs/audit'),
    detect,
    demo: { build: () => scripts },
    log: () => {},
  });
  await app.ready;
  return { app, server: startTestServer((req) => app.fetch(req, { clientAddress: '127.0.0.1' })) };
}

type Demo = {
  seq: number;
  local: { kind: string; backend: string } | null;
  input: {
    x: number[];
    label: number;
    probabilities: number[] | null;
    radius?: number | null;
    local: { label: number; logits: number[]; networkLogits: number[] } | null;
  } | null;
  pgd: { xAdv: number[]; linf: number; before: number; after: number; server: number } | null;
  remote: { outcome: string; queries: number; attack: string } | null;
  error: string | null;
};
const demo = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { hashguardDemo: Demo }).hashguardDemo);

/** Opens the page and waits until the model's local copy is loaded. */
async function open(browser: Browser, server: TestServer, query = ''): Promise<Page> {
  const page = await newCheckedPage(browser, { allowedOrigins: [server.origin], height: 1000 });
  await page.goto(`${server.origin}/${query}`);
  await page.waitForFunction(() => {
    const d = (globalThis as unknown as { hashguardDemo?: Demo }).hashguardDemo;
    return !!d && (d.local !== null || d.error !== null);
  });
  expect((await demo(page)).error).toBeNull();
  return page;
}

/** Runs `act`, then waits for the next classification and returns the page state. */
async function classified(page: Page, act: () => Promise<void>): Promise<Demo> {
  const before = (await demo(page)).seq;
  await act();
  await page.waitForFunction((n) => {
    const d = (globalThis as unknown as { hashguardDemo: Demo }).hashguardDemo;
    return d.seq > n || d.error !== null;
  }, before);
  const d = await demo(page);
  expect(d.error).toBeNull();
  return d;
}

/** Draws a polyline on the pad with the mouse (pointer events), in pad pixels (280×280). */
async function draw(page: Page, points: [number, number][]) {
  const box = (await page.locator('#pad').boundingBox())!;
  const at = ([x, y]: [number, number]) =>
    [box.x + (x * box.width) / 280, box.y + (y * box.height) / 280] as const;
  await page.mouse.move(...at(points[0]));
  await page.mouse.down();
  for (const p of points.slice(1)) await page.mouse.move(...at(p), { steps: 12 });
  await page.mouse.up();
}

const upload = (page: Page) => page.locator('#file').setInputFiles(SAMPLE);

describeBrowser('the demo page', () => {
  let served: { app: HashguardApp; server: TestServer };
  let browser: Browser;
  beforeAll(async () => {
    served = await serve({ mode: 'log' }); // the tests repeat images on purpose; blocking has its own test
    browser = await launchBrowser();
  }, BROWSER_TIMEOUT_MS);
  afterAll(async () => {
    await browser?.close();
    served?.server.stop();
    await served?.app.close();
  });

  test(
    'a "1" and a "7" drawn with pointer events get labels 1 and 7',
    async () => {
      const page = await open(browser, served.server);
      const one = await classified(page, () =>
        draw(page, [
          [140, 30],
          [132, 250],
        ]),
      );
      expect(one.input!.label).toBe(1);
      expect(one.input!.x).toHaveLength(784);
      expect(one.input!.local!.networkLogits).toHaveLength(10);
      await page.click('#clear');
      const seven = await classified(page, () =>
        draw(page, [
          [70, 50],
          [210, 50],
          [120, 250],
        ]),
      );
      expect(seven.input!.label).toBe(7);
      await saveScreenshot(page, 'demo-drawn-7');
      assertClean(page);
    },
    BROWSER_TIMEOUT_MS,
  );

  test(
    'the sample PNG gets label 7; the certified model shows probabilities and a certified radius',
    async () => {
      const page = await open(browser, served.server);
      expect((await classified(page, () => upload(page))).input!.label).toBe(7);
      await page.selectOption('#model', CERTIFIED);
      await page.waitForFunction(
        (m) =>
          (globalThis as unknown as { hashguardDemo: Demo & { model: { name: string } } })
            .hashguardDemo.model?.name === m &&
          (globalThis as unknown as { hashguardDemo: Demo }).hashguardDemo.local !== null,
        CERTIFIED,
      );
      const d = await classified(page, () => upload(page));
      expect(d.input!.label).toBe(7);
      expect(d.input!.probabilities).toHaveLength(10);
      expect(d.input!.probabilities![7]).toBeGreaterThan(0.5);
      expect(typeof d.input!.radius).toBe('number');
      expect(await page.locator('#radius').textContent()).toContain('L∞');
      assertClean(page);
    },
    BROWSER_TIMEOUT_MS,
  );

  test(
    'PGD in the worker: the adversarial input stays within ε of the input (read back from the page)',
    async () => {
      const page = await open(browser, served.server);
      const d = await classified(page, () => upload(page));
      const eps = 0.3;
      await page.fill('#eps', String(eps));
      await page.fill('#steps', '20');
      await page.click('#pgd');
      await page.waitForFunction(() => {
        const s = (globalThis as unknown as { hashguardDemo: Demo }).hashguardDemo;
        return s.pgd !== null || s.error !== null;
      });
      const r = await demo(page);
      expect(r.error).toBeNull();
      const x = d.input!.x,
        adv = r.pgd!.xAdv;
      expect(adv).toHaveLength(x.length);
      let linf = 0;
      for (let i = 0; i < x.length; i++) linf = Math.max(linf, Math.abs(adv[i] - x[i]));
      // float32 rounding of x ± ε: a few ulps at most.
      expect(linf).toBeLessThanOrEqual(eps + 1e-6);
      expect(Math.abs(r.pgd!.linf - linf)).toBeLessThan(1e-9);
      expect(adv.every((v) => v >= 0 && v <= 1)).toBe(true);
      expect(r.pgd!.before).toBe(7);
      await saveScreenshot(page, 'demo-pgd');
      assertClean(page);
    },
    BROWSER_TIMEOUT_MS,
  );

  test(
    'Square through the API on the model that reveals scores: queries counted, outcome shown',
    async () => {
      const page = await open(browser, served.server, `?model=${CERTIFIED}`);
      await classified(page, () => upload(page));
      await page.fill('#r-queries', '200');
      await page.click('#remote');
      await page.waitForFunction(() => {
        const s = (globalThis as unknown as { hashguardDemo: Demo }).hashguardDemo;
        return s.remote !== null || s.error !== null;
      });
      const r = await demo(page);
      expect(r.error).toBeNull();
      expect(r.remote!.attack).toBe('Square');
      expect(['flipped', 'held']).toContain(r.remote!.outcome);
      expect(r.remote!.queries).toBeGreaterThan(0);
      expect(r.remote!.queries).toBeLessThanOrEqual(200);
      assertClean(page);
    },
    BROWSER_TIMEOUT_MS,
  );
});

describeBrowser('the demo page against a blocking server', () => {
  test(
    'the attack through the API is blocked (403 query_attack_detected), and the page says so',
    async () => {
      const served = await serve({ mode: 'block' });
      const browser = await launchBrowser();
      try {
        const page = await open(browser, served.server);
        await classified(page, () => upload(page));
        // PGD first (its adversarial image is one more query), so the screenshot tells the whole story.
        await page.click('#pgd');
        await page.waitForFunction(() => {
          const s = (globalThis as unknown as { hashguardDemo: Demo }).hashguardDemo;
          return s.pgd !== null || s.error !== null;
        });
        await page.click('#remote');
        await page.waitForFunction(() => {
          const s = (globalThis as unknown as { hashguardDemo: Demo }).hashguardDemo;
          return s.remote !== null || s.error !== null;
        });
        const r = await demo(page);
        expect(r.error).toBeNull();
        expect(r.remote!.outcome).toBe('blocked');
        expect(await page.locator('#remote-result').textContent()).toContain(
          '403 query_attack_detected',
        );
        await saveScreenshot(page, 'demo-blocked');
        // The one thing that went "wrong" is the server's 403 to the attacking worker (and chromium's line for it).
        const p = pageProblems(page);
        expect(p.failedRequests.length).toBeGreaterThan(0);
        expect(
          p.failedRequests.every((f) => f.endsWith(`/v2/models/${DEFAULT}/infer: HTTP 403`)),
        ).toBe(true);
        expect(p.consoleErrors.every((e) => e.includes('403'))).toBe(true);
        expect([...p.pageErrors, ...p.externalRequests]).toEqual([]);
      } finally {
        await browser.close();
        served.server.stop();
        await served.app.close();
      }
    },
    BROWSER_TIMEOUT_MS,
  );
});

describeBrowser('the demo page on WebGPU', () => {
  test(
    "WebGPU (SwiftShader) gives the WASM path's labels, and logits within 1e-4",
    async () => {
      const served = await serve({ mode: 'log' });
      const browser = await launchBrowser({ webgpu: true });
      try {
        const results: Record<string, NonNullable<Demo['input']>[]> = {};
        for (const backend of ['webgpu', 'cpu']) {
          const page = await open(browser, served.server, `?backend=${backend}`);
          const local = (await demo(page)).local!;
          console.log(`demo page, backend=${backend}: ${local.backend}`);
          expect(local.kind).toBe(backend);
          const seven = await classified(page, () => upload(page));
          await page.click('#clear');
          const one = await classified(page, () =>
            draw(page, [
              [140, 30],
              [132, 250],
            ]),
          );
          results[backend] = [seven.input!, one.input!];
          if (backend === 'webgpu') await saveScreenshot(page, 'demo-webgpu');
          assertClean(page);
        }
        const close = (a: number[], b: number[], tol: number) =>
          a.forEach((v, i) => expect(Math.abs(v - b[i])).toBeLessThanOrEqual(tol));
        results.webgpu.forEach((gpu, k) => {
          const cpu = results.cpu[k];
          expect(gpu.x).toEqual(cpu.x);
          expect(gpu.label).toBe(cpu.label);
          expect(gpu.local!.label).toBe(cpu.local!.label);
          close(gpu.local!.networkLogits, cpu.local!.networkLogits, 1e-4);
          // The random stage multiplies the logits by α ∈ [50, 150]: the same tolerance, relative to their size.
          const scale = Math.max(1, ...cpu.local!.logits.map(Math.abs));
          close(gpu.local!.logits, cpu.local!.logits, 1e-4 * scale);
          const diff = (a: number[], b: number[]) =>
            Math.max(...a.map((v, i) => Math.abs(v - b[i])));
          console.log(
            `webgpu vs wasm, image ${k}: label ${gpu.local!.label}; max |Δ| network logits ${diff(gpu.local!.networkLogits, cpu.local!.networkLogits).toExponential(2)}, defended logits ${diff(gpu.local!.logits, cpu.local!.logits).toExponential(2)} (largest ${scale.toFixed(1)})`,
          );
        });
      } finally {
        await browser.close();
        served.server.stop();
        await served.app.close();
      }
    },
    BROWSER_TIMEOUT_MS * 2,
  );
});

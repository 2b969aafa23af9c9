// Smoke tests for the browser harness: chromium starts headless, evaluates script, and finds a WebGPU adapter
// (SwiftShader) when launched with webgpu: true.
import { afterAll, expect, test } from 'bun:test';
import type { Browser } from 'playwright-core';
import {
  assertClean,
  BROWSER_TIMEOUT_MS,
  describeBrowser,
  launchBrowser,
  newCheckedPage,
  startTestServer,
} from './browser.ts';

describeBrowser('browser harness', () => {
  const browsers: Browser[] = [];
  afterAll(async () => {
    for (const browser of browsers) await browser.close();
  });

  test(
    'evaluates script in a data: page and records nothing wrong',
    async () => {
      const browser = await launchBrowser();
      browsers.push(browser);
      const page = await newCheckedPage(browser);
      await page.goto('data:text/html,<title>smoke</title><p>hello</p>');
      expect(await page.evaluate(() => 1 + 1)).toBe(2);
      expect(await page.title()).toBe('smoke');
      assertClean(page);
    },
    BROWSER_TIMEOUT_MS,
  );

  test(
    'records console errors and blocks external requests',
    async () => {
      const browser = browsers[0] ?? (await launchBrowser());
      if (!browsers.length) browsers.push(browser);
      const page = await newCheckedPage(browser);
      await page.goto(
        'data:text/html,<script>console.error("boom")</script><img src="https://example.com/x.png">',
      );
      await page.waitForLoadState('load');
      expect(() => assertClean(page)).toThrow(
        /consoleErrors: boom[\s\S]*externalRequests: https:\/\/example\.com\/x\.png/,
      );
    },
    BROWSER_TIMEOUT_MS,
  );

  test(
    'webgpu: true gives a SwiftShader adapter that runs a compute shader',
    async () => {
      // navigator.gpu exists only in a secure context: http://127.0.0.1, not about:blank.
      const server = startTestServer(
        () =>
          new Response('<!doctype html><title>gpu</title>', {
            headers: { 'content-type': 'text/html' },
          }),
      );
      const browser = await launchBrowser({ webgpu: true });
      browsers.push(browser);
      try {
        const page = await newCheckedPage(browser, { allowedOrigins: [server.origin] });
        await page.goto(`${server.origin}/`);
        const result = await page.evaluate(async () => {
          const adapter = await navigator.gpu.requestAdapter();
          if (!adapter) return null;
          const device = await adapter.requestDevice();
          const module = device.createShaderModule({
            code: '@group(0) @binding(0) var<storage, read_write> o: array<f32>;\n@compute @workgroup_size(1) fn main() { o[0] = 1.0 + 1.0; }',
          });
          const pipeline = device.createComputePipeline({
            layout: 'auto',
            compute: { module, entryPoint: 'main' },
          });
          const out = device.createBuffer({
            size: 4,
            usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
          });
          const read = device.createBuffer({
            size: 4,
            usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
          });
          const bindGroup = device.createBindGroup({
            layout: pipeline.getBindGroupLayout(0),
            entries: [{ binding: 0, resource: { buffer: out } }],
          });
          const encoder = device.createCommandEncoder();
          const pass = encoder.beginComputePass();
          pass.setPipeline(pipeline);
          pass.setBindGroup(0, bindGroup);
          pass.dispatchWorkgroups(1);
          pass.end();
          encoder.copyBufferToBuffer(out, 0, read, 0, 4);
          device.queue.submit([encoder.finish()]);
          await read.mapAsync(GPUMapMode.READ);
          return {
            architecture: adapter.info.architecture,
            value: new Float32Array(read.getMappedRange())[0],
          };
        });
        expect(result).not.toBeNull();
        expect(result!.value).toBe(2);
        assertClean(page);
      } finally {
        server.stop();
      }
    },
    BROWSER_TIMEOUT_MS,
  );
});

// POST /v1/models/{m}:classify with PNG and JPEG bodies built from real MNIST test digits, decoded in the
// worker: labels match the model's prediction on the same pixels; bad images are 400/413, never 500.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createApp, workerExecutor, type HashguardApp } from '../../src/serve/index.ts';
import { imageToInput } from '../../src/parallel/defended-task.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { digitJpeg, digitPng, mnistDigits, plainModel, post } from './helpers.ts';

const N = 20;
const digits = mnistDigits(N);
let app: HashguardApp;
let predicted: number[];

beforeAll(async () => {
  const plain = await plainModel();
  app = createApp({
    models: { plain: { model: plain }, scored: { model: plain, scores: 'probabilities' } },
    executor: workerExecutor({ size: 1 }),
    limits: { maxImageBytes: 200_000, maxImagePixels: 512 * 512 },
    log: () => {},
  });
  await app.ready;
  predicted = Array.from(plain.network.predict(new Tensor([N, 1, 28, 28], digits.floats)));
}, 30_000);
afterAll(() => app.context.executor.close()); // given to createApp, so not closed by app.close()

const digit = (i: number) => digits.bytes.subarray(i * 784, (i + 1) * 784);
const classify = (body: Uint8Array | BodyInit, type = 'image/png', model = 'plain') => post(app, `/v1/models/${model}:classify`, body, { 'content-type': type });

describe(':classify', () => {
  test('grey 28×28 PNGs: label = the model\'s prediction on the same digit', async () => {
    for (let i = 0; i < N; i++) {
      const r = await classify(digitPng(digit(i)));
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ label: predicted[i], class: String(predicted[i]) });
    }
  });

  test('RGB PNGs at 3× size are converted to grey and resized back to 28×28 exactly', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await classify(digitPng(digit(i), { scale: 3, rgb: true }));
      expect(r.json.label).toBe(predicted[i]);
    }
  });

  test('JPEGs (2×, quality 95): label = the prediction on the decoded pixels, and agrees with the clean digit', async () => {
    const plain = await plainModel();
    let agree = 0;
    for (let i = 0; i < N; i++) {
      const jpg = digitJpeg(digit(i), 2);
      const r = await classify(jpg, 'image/jpeg');
      expect(r.status).toBe(200);
      const [own] = plain.network.predict(new Tensor([1, 1, 28, 28], imageToInput(jpg, [1, 28, 28], 1e6)));
      expect(r.json.label).toBe(own);
      if (r.json.label === predicted[i]) agree++;
    }
    expect(agree).toBeGreaterThanOrEqual(N - 1);
  });

  test('scores only where allowed', async () => {
    const r = await classify(digitPng(digit(0)), 'image/png', 'scored');
    expect(r.json.label).toBe(predicted[0]);
    expect(r.json.probabilities).toHaveLength(10);
  });

  test('bad images: 400 for garbage or a truncated file, 413 for too many pixels or bytes, 415 for other types', async () => {
    const garbage = await classify(new TextEncoder().encode('definitely not an image'));
    expect(garbage.status).toBe(400);
    expect(garbage.json.error).toContain('not a PNG or JPEG');
    const png = digitPng(digit(0));
    const truncated = await classify(png.subarray(0, 60));
    expect(truncated.status).toBe(400);
    expect(truncated.json.error).toContain('cannot decode PNG');
    // A valid signature and an IHDR claiming 100000×100000 pixels: refused from the header, before inflating.
    const forged = png.slice();
    new DataView(forged.buffer).setUint32(16, 100_000);
    new DataView(forged.buffer).setUint32(20, 100_000);
    const huge = await classify(forged);
    expect(huge.status).toBe(413);
    expect((await classify(new Uint8Array(200_001), 'image/png')).status).toBe(413);
    expect((await classify(png, 'image/gif')).status).toBe(415);
    const text = await (await app.request('/metrics')).text();
    expect(text).not.toMatch(/status="5\d\d"/);
  });
});

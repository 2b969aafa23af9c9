// POST /v1/models/{m}:classify with PNG and JPEG bodies built from real MNIST test digits, decoded in the
// worker: labels match the model's prediction on the same pixels, whatever the digit's polarity; the answer
// says what preprocessing was applied; bad images are 400/413 (limits named), never 500.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp, workerExecutor, type HashguardApp } from '../../src/serve/index.ts';
import { imageToInput } from '../../src/parallel/defended-task.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { digitJpeg, digitPng, mnistDigits, plainModel, post, ROOT } from './helpers.ts';

const N = 20;
const digits = mnistDigits(N);
let app: HashguardApp;
let predicted: number[];

beforeAll(async () => {
  const plain = await plainModel();
  app = createApp({
    detect: false, // repeats digits on purpose; detection is tested in test/serve/detect.test.ts
    models: { plain: { model: plain }, scored: { model: plain, scores: 'probabilities' } },
    executor: workerExecutor({ size: 1 }),
    limits: { maxImageBytes: 200_000, maxImagePixels: 512 * 512, maxImageSide: 600 },
    log: () => {},
  });
  await app.ready;
  predicted = Array.from(plain.network.predict(new Tensor([N, 1, 28, 28], digits.floats)));
}, 30_000);
afterAll(() => app.context.executor.close()); // given to createApp, so not closed by app.close()

const digit = (i: number) => digits.bytes.subarray(i * 784, (i + 1) * 784);
/** The same digit as black ink on white paper. */
const negative = (i: number) => digit(i).map((v) => 255 - v);
/** Mean of the 1-pixel border of a 28×28 digit, /255, rounded as the server reports it. */
function borderMean28(d: Uint8Array): number {
  let sum = 0;
  for (let k = 0; k < 27; k++) sum += d[k + 1] + d[27 * 28 + k] + d[k * 28] + d[(k + 1) * 28 + 27];
  return Math.round((sum / 108 / 255) * 1e4) / 1e4;
}
const plainPreprocessing = (i: number) => ({
  resized: { from: [28, 28], to: [28, 28], mode: 'none' },
  channels: 1,
  background: 'dark',
  borderMean: borderMean28(digit(i)),
  inverted: false,
});
const classify = (body: Uint8Array | BodyInit, type = 'image/png', model = 'plain') =>
  post(app, `/v1/models/${model}:classify`, body, { 'content-type': type });

describe(':classify', () => {
  test("grey 28×28 PNGs: label = the model's prediction on the same digit", async () => {
    for (let i = 0; i < N; i++) {
      const r = await classify(digitPng(digit(i)));
      expect(r.status).toBe(200);
      expect(r.json).toEqual({
        label: predicted[i],
        class: String(predicted[i]),
        preprocessing: plainPreprocessing(i),
      });
    }
  });

  test('RGB PNGs at 3× size are converted to grey and resized back to 28×28 exactly', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await classify(digitPng(digit(i), { scale: 3, rgb: true }));
      expect(r.json.label).toBe(predicted[i]);
      expect(r.json.preprocessing.resized).toEqual({ from: [84, 84], to: [28, 28], mode: 'area' });
    }
  });

  test('JPEGs (2×, quality 95): label = the prediction on the decoded pixels, and agrees with the clean digit', async () => {
    const plain = await plainModel();
    let agree = 0;
    for (let i = 0; i < N; i++) {
      const jpg = digitJpeg(digit(i), 2);
      const r = await classify(jpg, 'image/jpeg');
      expect(r.status).toBe(200);
      const [own] = plain.network.predict(
        new Tensor(
          [1, 1, 28, 28],
          imageToInput(jpg, [1, 28, 28], { maxPixels: 1e6, maxSide: 8192 }, 'dark').x,
        ),
      );
      expect(r.json.label).toBe(own);
      if (r.json.label === predicted[i]) agree++;
    }
    expect(agree).toBeGreaterThanOrEqual(N - 1);
  });

  test('polarity: a black digit on white gets the same label as the white digit on black (MNIST is dark)', async () => {
    for (let i = 0; i < N; i++) {
      for (const scale of [1, 4]) {
        const dark = await classify(digitPng(digit(i), { scale }));
        const light = await classify(digitPng(negative(i), { scale }));
        expect(light.status).toBe(200);
        expect(light.json.label).toBe(dark.json.label);
        expect(light.json.label).toBe(predicted[i]);
        expect(dark.json.preprocessing.inverted).toBe(false);
        expect(light.json.preprocessing.inverted).toBe(true);
        expect(light.json.preprocessing.borderMean).toBeGreaterThan(0.5);
      }
    }
  });

  test('examples/digit-7.png (MNIST test image 0, black on white, 112×112) is a 7', async () => {
    expect(digits.labels[0]).toBe(7);
    const r = await classify(new Uint8Array(readFileSync(join(ROOT, 'examples/digit-7.png'))));
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      label: 7,
      class: '7',
      preprocessing: {
        resized: { from: [112, 112], to: [28, 28], mode: 'area' },
        channels: 1,
        background: 'dark',
        borderMean: 1,
        inverted: true,
      },
    });
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
    expect(huge.json.error).toBe(
      'request body: PNG is 100000×100000, more than the 262144-pixel limit',
    );
    // Within the pixel limit but one side over the 600-pixel side limit.
    new DataView(forged.buffer).setUint32(16, 601);
    new DataView(forged.buffer).setUint32(20, 10);
    const wide = await classify(forged);
    expect([wide.status, wide.json.error]).toEqual([
      413,
      'request body: PNG is 601×10, wider than the 600-pixel side limit',
    ]);
    // A JPEG whose SOF claims 65535 × 65535: refused from the header, jpeg-js never runs.
    const sof = Uint8Array.of(
      0xff,
      0xd8,
      0xff,
      0xc0,
      0,
      11,
      8,
      0xff,
      0xff,
      0xff,
      0xff,
      1,
      1,
      0x11,
      0,
      0xff,
      0xd9,
    );
    const jpegBomb = await classify(sof, 'image/jpeg');
    expect([jpegBomb.status, jpegBomb.json.error]).toEqual([
      413,
      'request body: JPEG is 65535×65535, more than the 262144-pixel limit',
    ]);
    // Zero width: a bad request, not a limit.
    new DataView(forged.buffer).setUint32(16, 0);
    const zero = await classify(forged);
    expect([zero.status, zero.json.error]).toEqual([
      400,
      'request body: PNG is 0×10: an image needs at least one pixel',
    ]);
    expect((await classify(new Uint8Array(200_001), 'image/png')).status).toBe(413);
    expect((await classify(png, 'image/gif')).status).toBe(415);
    const text = await (await app.request('/metrics')).text();
    expect(text).not.toMatch(/status="5\d\d"/);
  });
});

describe('the OpenAPI document', () => {
  test('describes the preprocessing field and the header-size 413s', async () => {
    const doc = await (await app.request('/openapi.json')).json();
    expect(doc.components.schemas.ClassifyResponse.required).toContain('preprocessing');
    expect(Object.keys(doc.components.schemas.Preprocessing.properties)).toEqual([
      'resized',
      'channels',
      'background',
      'borderMean',
      'inverted',
    ]);
    const op = doc.paths['/v1/models/{model}:classify'].post;
    expect(op.responses[413].description).toContain(
      'more than 262144 pixels or a side over 600 pixels',
    );
  });
});

// Shared fixtures of the serving tests: the committed models, real MNIST test digits (bytes and floats),
// PNG/JPEG encoders for them, and small request helpers around app.request().
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { defaultMnistDir } from '../../src/data/mnist.ts';
import { parseIdx } from '../../src/data/idx.ts';
import { loadModel } from '../../src/node.ts';
import type { LoadedModel } from '../../src/nn/model.ts';
import { createApp, inProcessExecutor, type ServeOptions } from '../../src/serve/index.ts';

export const ROOT = join(import.meta.dir, '../..');
export const GI_DIR = join(ROOT, 'models/mnist-lenet5-h8-gi');
export const PLAIN_DIR = join(ROOT, 'models/mnist-lenet5');

let plain: Promise<LoadedModel> | null = null,
  gi: Promise<LoadedModel> | null = null;
/** The committed plain LeNet-5 and the random-GI defended model, loaded once per process. */
export const plainModel = () => (plain ??= loadModel(PLAIN_DIR));
export const giModel = () => (gi ??= loadModel(GI_DIR));

/** The first `count` MNIST test digits: raw bytes (count·784), floats x/255 and labels. */
export function mnistDigits(count: number): {
  bytes: Uint8Array;
  floats: Float32Array;
  labels: number[];
} {
  const dir = defaultMnistDir();
  const imgs = parseIdx(readFileSync(join(dir, 't10k-images-idx3-ubyte')), 't10k-images', 3).data;
  const labels = parseIdx(readFileSync(join(dir, 't10k-labels-idx1-ubyte')), 't10k-labels', 1).data;
  const bytes = imgs.slice(0, count * 784);
  return {
    bytes,
    floats: Float32Array.from(bytes, (b) => b / 255),
    labels: Array.from(labels.subarray(0, count)),
  };
}

/** A 28·scale square PNG of one digit (nearest-neighbour upscaled), grey or RGB. */
export function digitPng(
  digit: Uint8Array,
  { scale = 1, rgb = false } = {},
): Uint8Array<ArrayBuffer> {
  const size = 28 * scale;
  const png = new pngjs.PNG({
    width: size,
    height: size,
    colorType: rgb ? 2 : 0,
    inputColorType: 6,
  });
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = digit[Math.floor(y / scale) * 28 + Math.floor(x / scale)],
        o = 4 * (y * size + x);
      png.data[o] = png.data[o + 1] = png.data[o + 2] = v;
      png.data[o + 3] = 255;
    }
  }
  return new Uint8Array(pngjs.PNG.sync.write(png, { colorType: rgb ? 2 : 0, inputColorType: 6 }));
}

/** A JPEG (quality 95) of one digit, upscaled by `scale`. */
export function digitJpeg(digit: Uint8Array, scale = 1): Uint8Array<ArrayBuffer> {
  const size = 28 * scale,
    data = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = digit[Math.floor(y / scale) * 28 + Math.floor(x / scale)],
        o = 4 * (y * size + x);
      data[o] = data[o + 1] = data[o + 2] = v;
      data[o + 3] = 255;
    }
  }
  return new Uint8Array(jpeg.encode({ data, width: size, height: size }, 95).data);
}

/** An OIP v2 infer body for N MNIST images. */
export function inferBody(
  data: ArrayLike<number> | unknown[],
  opts: { n?: number; datatype?: string; shape?: number[]; outputs?: string[]; name?: string } = {},
): string {
  const n = opts.n ?? Math.max(1, Math.floor((data as ArrayLike<number>).length / 784));
  return JSON.stringify({
    inputs: [
      {
        name: opts.name ?? 'input',
        shape: opts.shape ?? [n, 1, 28, 28],
        datatype: opts.datatype ?? 'FP32',
        data: Array.from(data as ArrayLike<number>),
      },
    ],
    ...(opts.outputs ? { outputs: opts.outputs.map((name) => ({ name })) } : {}),
  });
}

export const JSON_HEADERS = { 'content-type': 'application/json' };

/** POST helper: returns status, parsed JSON (or null) and headers. */
export async function post(
  app: {
    request: (path: string, init?: RequestInit, env?: object) => Response | Promise<Response>;
  },
  path: string,
  body: BodyInit | Uint8Array,
  headers: Record<string, string> = JSON_HEADERS,
  env?: object,
) {
  const res = await app.request(path, { method: 'POST', body: body as BodyInit, headers }, env);
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, json, text, headers: res.headers };
}

/** An app over the plain and GI models with an in-process executor, a fixed secret and no query-attack detection unless asked (ready awaited). */
export async function testApp(
  overrides: Partial<ServeOptions> & { scores?: ServeOptions['models'][string]['scores'] } = {},
) {
  const { scores, ...rest } = overrides;
  const app = createApp({
    models: {
      plain: { model: await plainModel(), scores },
      gi: { model: await giModel(), scores },
    },
    executor: inProcessExecutor(),
    secret: Uint32Array.of(7),
    log: () => {},
    // Most tests repeat one digit on purpose; detection has its own tests (detect.test.ts) and is on by default.
    detect: false,
    ...rest,
  });
  await app.ready;
  return app;
}

// Fuzzing the server (issue 8, item 6): 10,000+ generated requests (malformed JSON, wrong shapes and dtypes,
// NaN/Infinity, huge and negative dimensions, empty and oversized bodies, corrupt and huge images, wrong
// content types and paths) must never produce a 5xx, a crash or a hang, and every error must be exactly
// {"error": "<text>"} without stack frames. The seed is printed; rerun one with HASHGUARD_FUZZ_SEED=<seed>.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import fc from 'fast-check';
import type { HashguardApp } from '../../src/serve/index.ts';
import { digitPng, mnistDigits, testApp } from './helpers.ts';

let app: HashguardApp;
const seed = Number(
  (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env
    .HASHGUARD_FUZZ_SEED ?? Date.now() % 2 ** 31,
);
const one = mnistDigits(1);
const png = digitPng(one.bytes.subarray(0, 784));
beforeAll(async () => {
  // Small limits so oversized bodies and batches are cheap to generate; a budget no fuzz run exhausts.
  app = await testApp({
    limits: { maxBodyBytes: 128 * 1024, maxBatch: 4 },
    budgets: { limit: 1e9, windowMs: 3_600_000 },
  });
  console.log(`fuzz seed ${seed} (HASHGUARD_FUZZ_SEED=${seed} reruns it)`);
});
afterAll(async () => {
  await app?.close();
  console.log(`fuzz requests by status: ${JSON.stringify(Object.fromEntries(seen))}`);
});

const ALLOWED = new Set([200, 400, 404, 405, 413, 415, 429, 503]);
/** Requests sent per status: printed at the end, and proof that the runs really happened. */
const seen = new Map<number, number>();
const TIMEOUT_MS = 5000;

/** Sends one request; fails on a 5xx, an undocumented status, a malformed error body, a stack trace, or a hang. */
async function check(
  method: string,
  path: string,
  body: Uint8Array | string | null,
  contentType: string | null,
): Promise<boolean> {
  const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {};
  const init: RequestInit = {
    method,
    headers,
    ...(body !== null && method !== 'GET' && method !== 'HEAD' ? { body: body as BodyInit } : {}),
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const res = await Promise.race([
    Promise.resolve(app.request(path, init)),
    new Promise<never>(
      (_, reject) =>
        (timer = setTimeout(
          () => reject(new Error(`hang: ${method} ${path} took over ${TIMEOUT_MS} ms`)),
          TIMEOUT_MS,
        )),
    ),
  ]).finally(() => clearTimeout(timer));
  const text = await res.text();
  seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
  if (!ALLOWED.has(res.status))
    throw new Error(
      `status ${res.status} for ${method} ${path} (${contentType}): ${text.slice(0, 200)}`,
    );
  if (res.status >= 400 && method !== 'HEAD') {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(
        `status ${res.status} with a non-JSON body for ${method} ${path}: ${text.slice(0, 200)}`,
      );
    }
    const keys = json && typeof json === 'object' ? Object.keys(json) : [];
    if (
      keys.length !== 1 ||
      keys[0] !== 'error' ||
      typeof (json as { error: unknown }).error !== 'string'
    )
      throw new Error(`error body not {"error": "..."}: ${text.slice(0, 200)}`);
  }
  if (/\n\s+at |\.ts:\d+:\d+/.test(text))
    throw new Error(`stack trace in the response: ${text.slice(0, 300)}`);
  return true;
}

// Mostly real models, so bodies reach validation and inference; sometimes names that must 404.
const model = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('plain', 'gi') },
  { weight: 1, arbitrary: fc.constantFrom('nope', '', '%00', '../etc', 'x'.repeat(300)) },
);
const inferPath = model.map((m) => `/v2/models/${m}/infer`);
const classifyPath = model.map((m) => `/v1/models/${m}:classify`);
const anyPath = fc.oneof(
  inferPath,
  classifyPath,
  fc.constantFrom(
    '/v2/health/live',
    '/v2/health/ready',
    '/metrics',
    '/openapi.json',
    '/v2/models/plain',
    '/v2/models/plain/ready',
    '/v2/models/gi/robustness',
    '/v2/models/nope/robustness',
  ),
  fc.webPath(),
);
const contentType = fc.option(
  fc.constantFrom(
    'application/json',
    'image/png',
    'image/jpeg',
    'text/plain',
    'application/octet-stream',
    'multipart/form-data',
    'application/json; charset=utf-8',
    'garbage/;;',
  ),
  { nil: null },
);

// JSON numbers JSON.stringify cannot write: spliced in as raw tokens.
const rawNumber = fc.oneof(
  fc.double().map(String),
  fc.constantFrom('1e309', '-1e309', 'NaN', 'Infinity', '-0', '1e-400', '0x10', '01', '.5'),
);
const dims = fc.array(
  fc.oneof(
    fc.integer({ min: -5, max: 40 }),
    fc.constantFrom(2 ** 31, 2 ** 53, -(2 ** 31), 1e12, 0, 0.5),
  ),
  { maxLength: 6 },
);
const datatype = fc.oneof(
  fc.constantFrom('FP32', 'UINT8', 'INT64', 'FP16', 'BYTES', 'fp32', ''),
  fc.string({ maxLength: 8 }),
);
/** OIP-shaped infer bodies with something wrong (or right) in every field. */
const inferJson = fc
  .record({
    name: fc.oneof(fc.constant('input'), fc.string({ maxLength: 10 })),
    shape: fc.oneof(fc.constant([1, 1, 28, 28]), fc.constant([2, 1, 28, 28]), dims),
    datatype,
    data: fc.oneof(
      fc.constant(Array.from(one.floats)),
      fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { maxLength: 900 }),
      fc.array(fc.integer({ min: -300, max: 300 }), { maxLength: 900 }),
      fc.constant([[Array.from(one.floats.subarray(0, 28))]]),
      fc.array(fc.oneof(fc.string({ maxLength: 3 }), fc.boolean(), fc.constant(null)), {
        maxLength: 10,
      }),
    ),
    rawToken: fc.option(rawNumber, { nil: undefined }),
    extra: fc.option(fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 })), {
      nil: undefined,
    }),
  })
  .map(({ name, shape, datatype, data, rawToken, extra }) => {
    let text = JSON.stringify({
      inputs: [{ name, shape, datatype, data }],
      ...(extra ? { parameters: extra } : {}),
    });
    if (rawToken && text.includes('"data":['))
      text = text.replace('"data":[', `"data":[${rawToken},`);
    return text;
  });
const jsonish = fc.oneof(
  inferJson,
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.constantFrom('', '{', '{"inputs": [', 'null', '[]', '{"inputs": []}', '{"inputs": null}'),
);
const oversized = fc
  .integer({ min: 129, max: 400 })
  .map(
    (kib) =>
      '{"inputs":[{"name":"input","shape":[1,1,28,28],"datatype":"FP32","data":[' +
      '0,'.repeat(kib * 512) +
      '0]}]}',
  );
/** Images: the real PNG, truncated or bit-flipped, random bytes, and PNG/JPEG headers claiming huge sizes. */
const imageBytes = fc.oneof(
  fc.constant(png),
  fc.integer({ min: 0, max: png.length - 1 }).map((n) => png.slice(0, n)),
  fc
    .tuple(fc.integer({ min: 0, max: png.length - 1 }), fc.integer({ min: 0, max: 255 }))
    .map(([i, v]) => {
      const b = png.slice();
      b[i] ^= v | 1;
      return b;
    }),
  fc.uint8Array({ maxLength: 2048 }),
  fc.constantFrom(
    // 8-byte PNG signature + IHDR claiming 100000 × 100000 (no pixel data follows)
    Uint8Array.from([
      137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 1, 134, 160, 0, 1, 134, 160,
      8, 0, 0, 0, 0, 0, 0, 0, 0,
    ]),
    Uint8Array.from([
      0xff, 0xd8, 0xff, 0xc0, 0, 17, 8, 0xff, 0xff, 0xff, 0xff, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11,
      1, 0xff, 0xd9,
    ]),
  ),
);

const RUNS = 2500; // × 4 properties = 10,000 requests

test('infer: generated JSON bodies never give a 5xx, a hang, or an undocumented error', async () => {
  await fc.assert(
    fc.asyncProperty(
      inferPath,
      fc.oneof({ weight: 9, arbitrary: jsonish }, { weight: 1, arbitrary: oversized }),
      contentType,
      (p, b, ct) => check('POST', p, b, ct ?? 'application/json'),
    ),
    { numRuns: RUNS, seed },
  );
}, 300_000);

test('classify: generated image bodies (corrupt, truncated, huge headers, random) never give a 5xx or a hang', async () => {
  await fc.assert(
    fc.asyncProperty(classifyPath, imageBytes, contentType, (p, b, ct) => check('POST', p, b, ct)),
    { numRuns: RUNS, seed: seed + 1 },
  );
}, 300_000);

test('any route, any method, any body: only documented statuses and error shapes', async () => {
  const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS');
  const body = fc.oneof(jsonish, imageBytes, fc.constant(null));
  await fc.assert(
    fc.asyncProperty(method, anyPath, body, contentType, (m, p, b, ct) => check(m, p, b, ct)),
    { numRuns: RUNS, seed: seed + 2 },
  );
}, 300_000);

test('valid requests keep working in between: every generated valid batch is answered 200 with labels', async () => {
  const before = [...seen.values()].reduce((a, b) => a + b, 0);
  expect(before).toBeGreaterThanOrEqual(3 * RUNS); // the three fuzz properties above really sent their requests
  const batch = fc
    .integer({ min: 1, max: 4 })
    .chain((n) =>
      fc.tuple(
        fc.constant(n),
        fc.array(fc.integer({ min: 0, max: 255 }), { minLength: n * 784, maxLength: n * 784 }),
      ),
    );
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('plain', 'gi'),
      batch,
      fc.boolean(),
      async (m, [n, bytes], uint8) => {
        const data = uint8 ? bytes : bytes.map((v) => v / 255);
        const res = await app.request(`/v2/models/${m}/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            inputs: [
              { name: 'input', shape: [n, 1, 28, 28], datatype: uint8 ? 'UINT8' : 'FP32', data },
            ],
          }),
        });
        const text = await res.text();
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
        if (res.status !== 200)
          throw new Error(
            `valid ${uint8 ? 'UINT8' : 'FP32'} batch of ${n} for ${m}: ${res.status} ${text.slice(0, 200)}`,
          );
        const json = JSON.parse(text) as { outputs?: { name: string; data: number[] }[] };
        expect(json.outputs?.find((o) => o.name === 'labels')?.data.length).toBe(n);
        return true;
      },
    ),
    { numRuns: RUNS, seed: seed + 3, endOnFailure: true },
  );
}, 300_000);

// Every client error class answers {"error": "..."} with its 4xx status and no stack trace, and no client
// input reaches the 500 handler; a genuine server fault is a generic 500 whose detail goes to the log only.
import { beforeAll, describe, expect, test } from 'bun:test';
import { createApp, type HashguardApp, type InferenceExecutor } from '../../src/serve/index.ts';
import { inferBody, JSON_HEADERS, mnistDigits, plainModel, post, testApp } from './helpers.ts';

let app: HashguardApp;
const one = mnistDigits(1);
beforeAll(async () => {
  app = await testApp({ limits: { maxBodyBytes: 64 * 1024, maxBatch: 4 } });
});

const INFER = '/v2/models/plain/infer';
const tensor = (t: Record<string, unknown>) =>
  JSON.stringify({
    inputs: [
      {
        name: 'input',
        shape: [1, 1, 28, 28],
        datatype: 'FP32',
        data: Array.from(one.floats),
        ...t,
      },
    ],
  });
const zeros = (n: number) => new Array(n).fill(0);

function expectError(
  r: { status: number; json: any; text: string },
  status: number,
  fragment?: string,
) {
  expect(r.status).toBe(status);
  expect(Object.keys(r.json ?? {})).toEqual(['error']);
  expect(typeof r.json.error).toBe('string');
  expect(r.text).not.toMatch(/\n\s+at |\.ts:\d+/); // no stack frames, no source paths
  if (fragment) expect(r.json.error).toContain(fragment);
}

// [name, body, expected fragment]: each must be a 400.
const BAD_BODIES: [string, string, string][] = [
  ['malformed JSON', '{"inputs": [', 'malformed JSON'],
  ['not JSON at all', 'hello', 'malformed JSON'],
  ['empty body', '', 'malformed JSON'],
  ['JSON array', '[]', 'invalid infer request'],
  ['JSON null', 'null', 'invalid infer request'],
  ['missing inputs', '{}', 'inputs'],
  [
    'two inputs',
    JSON.stringify({
      inputs: [JSON.parse(tensor({})).inputs[0], JSON.parse(tensor({})).inputs[0]],
    }),
    'exactly one input',
  ],
  ['unknown datatype', tensor({ datatype: 'INT32' }), 'datatype'],
  ['wrong input name', tensor({ name: 'pixels' }), "unknown input 'pixels'"],
  ['wrong image size', tensor({ shape: [1, 1, 27, 28] }), 'does not match [N, 1, 28, 28]'],
  ['wrong rank', tensor({ shape: [784] }), 'does not match'],
  ['negative dimension', tensor({ shape: [-1, 1, 28, 28] }), 'shape'],
  ['fractional dimension', tensor({ shape: [1.5, 1, 28, 28] }), 'shape'],
  ['huge batch', tensor({ shape: [1e12, 1, 28, 28] }), 'exceeds the limit of 4'],
  [
    'batch above maxBatch',
    tensor({ shape: [5, 1, 28, 28] }),
    'batch of 5 images exceeds the limit of 4',
  ],
  ['empty batch', tensor({ shape: [0, 1, 28, 28], data: [] }), 'empty'],
  ['too few values', tensor({ data: zeros(783) }), 'needs 784'],
  [
    'Infinity via 1e309',
    tensor({ data: [1e309, ...zeros(783)] }).replace('null', '1e309'),
    'finite',
  ],
  [
    '-Infinity via -1e309',
    tensor({ data: [0.125, ...zeros(783)] }).replace('0.125', '-1e309'),
    'finite',
  ],
  ['string value', tensor({ data: ['0', ...zeros(783)] }), 'not a finite number'],
  ['null value', tensor({ data: [null, ...zeros(783)] }), 'not a finite number'],
  ['out of range', tensor({ data: [2, ...zeros(783)] }), "outside the model's input range"],
  [
    'UINT8 above 255',
    tensor({ datatype: 'UINT8', data: [256, ...zeros(783)] }),
    'integer in [0, 255]',
  ],
  [
    'UINT8 fraction',
    tensor({ datatype: 'UINT8', data: [0.5, ...zeros(783)] }),
    'integer in [0, 255]',
  ],
  ['nested wrong length', tensor({ data: [[zeros(28)]] }), 'must be an array of 28'],
  [
    'nested too deep',
    tensor({ data: [[Array.from({ length: 28 }, () => zeros(28).map(() => [0]))]] }),
    'not a finite number',
  ],
  ['data not an array', tensor({ data: 'AAAA' }), 'data'],
  [
    'deeply nested junk',
    `{"inputs":[{"name":"input","shape":[1,1,28,28],"datatype":"FP32","data":${'['.repeat(5000)}${']'.repeat(5000)}}]}`,
    '',
  ],
];

describe('400 for bad request bodies', () => {
  for (const [name, body, fragment] of BAD_BODIES) {
    test(name, async () => expectError(await post(app, INFER, body), 400, fragment));
  }
  test('a request for scores the deployment does not serve', async () => {
    expectError(
      await post(app, INFER, inferBody(one.floats, { outputs: ['logits'] })),
      400,
      'not served',
    );
  });
  test('invalid UTF-8', async () => {
    expectError(await post(app, INFER, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), 400, 'UTF-8');
  });
});

describe('413, 415, 404', () => {
  test('413 from Content-Length, before the body is read', async () => {
    const big = 'x'.repeat(64 * 1024 + 1);
    expectError(await post(app, INFER, big), 413, 'larger than the limit of 65536 bytes');
  });

  test('413 while streaming a body without Content-Length', async () => {
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(ctrl) {
        // Endless: the server must stop reading at the cap, not buffer the whole stream.
        pulled++;
        ctrl.enqueue(new Uint8Array(16 * 1024).fill(0x20));
        if (pulled > 1000) ctrl.close();
      },
    });
    const res = await app.request(INFER, {
      method: 'POST',
      body: stream,
      headers: JSON_HEADERS,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(pulled).toBeLessThan(20);
  });

  test('415 for a wrong or missing content type', async () => {
    expectError(
      await post(app, INFER, tensor({}), { 'content-type': 'text/plain' }),
      415,
      "unsupported content type 'text/plain'",
    );
    expectError(
      await post(app, INFER, tensor({}), { 'content-type': 'application/x-www-form-urlencoded' }),
      415,
    );
    expectError(
      await post(app, '/v1/models/plain:classify', tensor({}), JSON_HEADERS),
      415,
      'image/png or image/jpeg',
    );
    const res = await app.request(INFER, { method: 'POST', body: new Blob([tensor({})]) });
    expect(res.status).toBe(415);
  });

  test('404 for unknown models and routes, as JSON', async () => {
    expectError(await post(app, '/v2/models/nope/infer', tensor({})), 404, "unknown model 'nope'");
    expectError(
      await post(app, '/v1/models/nope:classify', new Uint8Array(8), {
        'content-type': 'image/png',
      }),
      404,
      "unknown model 'nope'",
    );
    expectError(
      await post(app, '/v1/models/plain', new Uint8Array(8), { 'content-type': 'image/png' }),
      404,
    );
    for (const path of [
      '/v2/models/nope',
      '/v2/models/nope/ready',
      '/v2/models/nope/robustness',
      '/nothing/here',
    ]) {
      const r = await app.request(path);
      expectError({ status: r.status, text: await r.clone().text(), json: await r.json() }, 404);
    }
  });
});

describe('server faults', () => {
  test('an executor failure is a generic 500; the detail goes to the log only', async () => {
    const logged: string[] = [];
    let calls = 0;
    const failing: InferenceExecutor = {
      concurrency: 1,
      healthy: true,
      close() {},
      async run(network, input, random) {
        if (calls++ === 0)
          return { kind: 'defendedForward', logits: new Float32Array(10), n: 1, backend: 'stub' }; // warm-up
        throw new Error('secret internal detail');
      },
    };
    const faulty = createApp({
      detect: false, // repeats digits on purpose; detection is tested in test/serve/detect.test.ts
      models: { plain: { model: await plainModel() } },
      executor: failing,
      log: (m) => logged.push(m),
    });
    await faulty.ready;
    const r = await post(faulty, '/v2/models/plain/infer', tensor({}));
    expectError(r, 500);
    expect(r.json.error).toBe('internal server error');
    expect(r.text).not.toContain('secret');
    expect(logged.join('\n')).toContain('secret internal detail');
  });

  test('no bad input above reached the 500 handler', async () => {
    const text = await (await app.request('/metrics')).text();
    expect(text).not.toMatch(/status="5\d\d"/);
  });
});

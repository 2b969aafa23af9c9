// The random-GI model served: each request draws a fresh seed from the server secret and a counter, so
// scores vary from request to request while labels stay (mostly) put; the numbers are exactly
// DefendedModel.forward's for that seed, on the worker as in process.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { DefendedModel } from '../../src/defense/defended-model.ts';
import type { DefenseSpec } from '../../src/defense/defense-spec.ts';
import { deriveStream } from '../../src/hash/rng.ts';
import {
  createApp,
  requestSeeds,
  workerExecutor,
  type HashguardApp,
} from '../../src/serve/index.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { giModel, inferBody, mnistDigits, post } from './helpers.ts';

const N = 16;
const digits = mnistDigits(N);
let app: HashguardApp;

beforeAll(async () => {
  app = createApp({
    detect: false, // repeats digits on purpose; detection is tested in test/serve/detect.test.ts
    models: { gi: { model: await giModel(), scores: 'logits' } },
    executor: workerExecutor({ size: 1 }),
    secret: Uint32Array.of(7),
    log: () => {},
  });
  await app.ready;
}, 30_000);
afterAll(() => app.context.executor.close()); // given to createApp, so not closed by app.close()

describe('random GI over HTTP', () => {
  test('request i uses seed deriveStream(secret, i): logits equal DefendedModel.forward with that seed', async () => {
    const gi = await giModel();
    const model = new DefendedModel(gi.network, gi.manifest.defense as unknown as DefenseSpec);
    const x = new Tensor([N, 1, 28, 28], digits.floats);
    for (let i = 0; i < 2; i++) {
      const r = await post(app, '/v2/models/gi/infer', inferBody(digits.floats));
      const local = model.forward(x, deriveStream(7, i)).data;
      const got: number[] = r.json.outputs[1].data;
      let worst = 0;
      got.forEach(
        (v, j) =>
          (worst = Math.max(worst, Math.abs(v - local[j]) / Math.max(1, Math.abs(local[j])))),
      );
      expect(worst).toBeLessThan(1e-5);
    }
  });

  test('scores vary across requests; labels are stable for nearly every digit', async () => {
    const runs: { labels: number[]; logits: number[] }[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await post(app, '/v2/models/gi/infer', inferBody(digits.floats));
      expect(r.status).toBe(200);
      runs.push({ labels: r.json.outputs[0].data, logits: r.json.outputs[1].data });
    }
    // Every pair of requests differs in its scores (fresh α per row and fresh last-layer noise).
    for (let a = 0; a < runs.length; a++)
      for (let b = a + 1; b < runs.length; b++) expect(runs[a].logits).not.toEqual(runs[b].logits);
    let stable = 0;
    for (let d = 0; d < N; d++) if (runs.every((r) => r.labels[d] === runs[0].labels[d])) stable++;
    expect(stable).toBeGreaterThanOrEqual(N - 2);
    // And they are right: the digits' true labels, for nearly all.
    const correct = runs[0].labels.filter((l, d) => l === digits.labels[d]).length;
    expect(correct).toBeGreaterThanOrEqual(N - 1);
  });

  test('labels only unless the deployment allows scores', async () => {
    const labelsOnly = createApp({
      detect: false, // repeats digits on purpose; detection is tested in test/serve/detect.test.ts
      models: { gi: { model: await giModel() } },
      executor: app.context.executor,
      log: () => {},
    });
    await labelsOnly.ready;
    const r = await post(labelsOnly, '/v2/models/gi/infer', inferBody(digits.floats));
    expect(r.json.outputs.map((o: { name: string }) => o.name)).toEqual(['labels']);
  });

  test('request seeds: a one-word secret gives deriveStream(secret, i); more words change every seed', () => {
    const one = requestSeeds(Uint32Array.of(7)),
      four = requestSeeds(Uint32Array.of(7, 1, 2, 3));
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const s = one();
      expect(s).toBe(deriveStream(7, i));
      expect(four()).not.toBe(s);
      seen.add(s);
    }
    expect(seen.size).toBe(1000);
  });
});

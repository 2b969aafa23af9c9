// Certificates with predictions: parameters.certify on /infer returns each row's certified radius for a
// certified-trained model (served on a worker), radii that the verifier confirms and that PGD at that radius
// cannot break, within the stated budget; other models and bad values are refused by name.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { PGD } from '../../src/attacks/pgd.ts';
import { WhiteBox } from '../../src/attacks/target.ts';
import { loadModel } from '../../src/node.ts';
import type { LoadedModel } from '../../src/nn/model.ts';
import { createApp, workerExecutor, type HashguardApp } from '../../src/serve/index.ts';
import { CERTIFY_BUDGET_MS } from '../../src/serve/infer/certify.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { certify } from '../../src/verify/index.ts';
import { mnistDigits, plainModel, post, ROOT } from './helpers.ts';

const N = 6;
const digits = mnistDigits(N);
let app: HashguardApp, ibp: LoadedModel;
const body = (n: number, certify: unknown) =>
  JSON.stringify({
    parameters: { certify },
    inputs: [
      {
        name: 'input',
        shape: [n, 1, 28, 28],
        datatype: 'FP32',
        data: Array.from(digits.floats.subarray(0, n * 784)),
      },
    ],
  });

beforeAll(async () => {
  ibp = await loadModel(join(ROOT, 'models/mnist-cnn-ibp'));
  app = createApp({
    detect: false,
    models: { ibp: { model: ibp }, plain: { model: await plainModel() } },
    executor: workerExecutor({ size: 1 }),
    log: () => {},
  });
  await app.ready;
}, 30_000);
afterAll(() => app.context.executor.close());

describe('certificates with predictions', () => {
  test('each row gets a certified radius the verifier confirms and PGD at that radius cannot break', async () => {
    const r = await post(app, '/v2/models/ibp/infer', body(N, true));
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    const labels = r.json.outputs.find((o: { name: string }) => o.name === 'labels')
      .data as number[];
    const p = r.json.parameters;
    expect(p.certificate).toMatchObject({ norm: 'linf', method: 'ibp', input_range: [0, 1] });
    expect(p.certificate.budget_ms).toBe(CERTIFY_BUDGET_MS);
    expect(p.certificate.promise).toContain('no input within certified_radius');
    expect(p.certified_radius).toHaveLength(N);
    let positive = 0,
      reached = 0;
    for (let i = 0; i < N; i++) {
      const radius = p.certified_radius[i];
      if (radius === null) continue; // the budget ran out first (a slow machine): nothing promised
      reached++;
      const x = digits.floats.subarray(i * 784, (i + 1) * 784);
      if (radius === 0) continue;
      positive++;
      // The verifier agrees at the radius served, and refuses at the bracket's other end.
      expect(certify(ibp.network, x, labels[i], radius).certified).toBe(true);
      const above = p.certificate.not_certified_at[i];
      if (above !== null) expect(certify(ibp.network, x, labels[i], above).certified).toBe(false);
      expect(above === null || above > radius).toBe(true);
      const attack = await new PGD({
        eps: radius,
        alpha: radius / 4,
        steps: 20,
        restarts: 5,
        seed: i,
        earlyStop: false,
      }).run(
        new WhiteBox(ibp.network),
        new Tensor([1, 1, 28, 28], x),
        new Tensor([1], Float32Array.of(labels[i])),
      );
      expect(attack.success[0]).toBe(false);
    }
    expect(reached).toBeGreaterThan(0);
    expect(positive).toBeGreaterThan(reached / 2); // an IBP-trained model: most digits have a real radius
    expect(p.certificate.spent_ms).toBeLessThan(CERTIFY_BUDGET_MS + 200);
  }, 60_000);

  test('a batch too big for the budget: the rows not reached say null, never a guess', async () => {
    const r = await post(app, '/v2/models/ibp/infer', body(N, 'crown-ibp'));
    expect(r.status).toBe(200);
    const radii = r.json.parameters.certified_radius as (number | null)[];
    expect(radii).toHaveLength(N);
    // Once a row is null, every later row is too (the budget is spent in row order).
    const first = radii.indexOf(null);
    if (first >= 0) expect(radii.slice(first).every((v) => v === null)).toBe(true);
    expect(r.json.parameters.certificate.method).toBe('crown-ibp');
  }, 60_000);

  test('model metadata says where certificates are served', async () => {
    const ibpMeta = await (await app.request('/v2/models/ibp')).json();
    expect(ibpMeta.certificates).toEqual({
      norm: 'linf',
      methods: ['ibp', 'crown-ibp'],
      budgetMs: CERTIFY_BUDGET_MS,
    });
    const plainMeta = await (await app.request('/v2/models/plain')).json();
    expect(plainMeta.certificates).toBeNull();
  });

  test('no certify parameter: no certificate; an uncertified model and a bad value are refused by name', async () => {
    const plain = await post(
      app,
      '/v2/models/ibp/infer',
      JSON.stringify({ inputs: JSON.parse(body(1, true)).inputs }),
    );
    expect(plain.status).toBe(200);
    expect(plain.json.parameters).toBeUndefined();
    const other = await post(app, '/v2/models/plain/infer', body(1, true));
    expect(other.status).toBe(400);
    expect(other.json.error).toContain('was not trained with --certified');
    const bad = await post(app, '/v2/models/ibp/infer', body(1, 'exact'));
    expect(bad.status).toBe(400);
    expect(bad.json.error).toContain('parameters.certify must be true, false or a bound method');
    const slow = await post(app, '/v2/models/ibp/infer', body(1, 'crown'));
    expect(slow.status).toBe(400);
    expect(slow.json.error).toContain('crown is too slow for a request');
  }, 30_000);
});

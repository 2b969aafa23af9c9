// The served default (random GI over the hashed adversarially trained CNN) has a committed side-by-side audit:
// /v2/models/{m}/robustness returns it with the served configuration named, and that configuration's robust
// accuracy is no more than 1 pp below the same model without GI (GI must not cost real robustness).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { DEFAULT_MODEL } from '../../src/serve/config.ts';
import { createApp, type HashguardApp } from '../../src/serve/index.ts';
import { ROOT } from './helpers.ts';

let app: HashguardApp;
beforeAll(async () => {
  app = createApp({
    models: { [DEFAULT_MODEL.name]: { dir: DEFAULT_MODEL.dir } },
    workers: 1,
    auditDir: join(ROOT, 'docs/audit'),
  });
  await app.ready;
});
afterAll(() => app.close());

interface Config {
  name: string;
  robustAccuracy: number;
  cleanAccuracy: number;
  stages: unknown[];
}

describe('robustness of the served default', () => {
  test('the route returns the MNIST side-by-side audit, naming the served configuration', async () => {
    const res = await app.request(`/v2/models/${DEFAULT_MODEL.name}/robustness`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      file: string;
      configuration: string | null;
      configurations: string[];
      audit: { configurations: Config[]; n: number };
    };
    expect(body.file).toBe('mnist-cnn.json');
    expect(body.configurations.sort()).toEqual(['hashed AT', 'hashed AT+GI random']);
    expect(body.configuration).toBe('hashed AT+GI random');
    const byName = new Map(body.audit.configurations.map((c) => [c.name, c]));
    const served = byName.get('hashed AT+GI random')!,
      bare = byName.get('hashed AT')!;
    expect(served.robustAccuracy).toBeGreaterThanOrEqual(bare.robustAccuracy - 0.01);
    // And it holds something: GI alone on the clean hashed model holds nothing.
    expect(served.robustAccuracy).toBeGreaterThan(0.5);
    expect(byName.get('hashed+GI random')!.robustAccuracy).toBeLessThan(0.01);
  }, 60_000);
});

// The remote audit through an HttpOracle over app.request: Square when scores are served (equal to the same
// runs on a local oracle), HopSkipJump from labels, randomized verdicts, a server budget that ends the audit
// with a partial report, and the CLI (`bun run audit -- --url …`) against a real Bun.serve port.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { takeRows } from '../../src/attacks/evaluate.ts';
import { HttpOracle, type FetchLike } from '../../src/attacks/http-oracle.ts';
import { Square } from '../../src/attacks/square.ts';
import { argmaxRows, ScoreOracle } from '../../src/attacks/target.ts';
import { successRate } from '../../src/attacks/types.ts';
import { noGrad } from '../../src/autodiff/grad.ts';
import { runRemoteAudit } from '../../src/audit/remote-audit.ts';
import { remoteAuditMarkdown } from '../../src/audit/report-remote-markdown.ts';
import { deriveStream } from '../../src/hash/rng.ts';
import type { LoadedModel } from '../../src/nn/model.ts';
import { createApp, inProcessExecutor, type ServeOptions } from '../../src/serve/index.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { mnistSubset } from '../helpers/attack-data.ts';
import { giModel, plainModel, ROOT } from '../serve/helpers.ts';

let plain: LoadedModel;
let x: Tensor, y: Tensor;
const apps: { close(): Promise<void> }[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'hashguard-remote-audit-'));
beforeAll(async () => {
  plain = await plainModel();
  ({ x, y } = await mnistSubset(20));
});
afterAll(async () => {
  for (const a of apps) await a.close();
  rmSync(tmp, { recursive: true, force: true });
});

async function appWith(
  opts: Partial<ServeOptions> & {
    scores?: 'none' | 'probabilities' | 'logits';
    model?: LoadedModel;
  } = {},
) {
  const { scores, model, ...rest } = opts;
  const app = createApp({
    detect: false, // repeats digits on purpose; detection is tested in test/serve/detect.test.ts
    models: { m: { model: model ?? plain, scores } },
    executor: inProcessExecutor(),
    budgets: false,
    secret: Uint32Array.of(9),
    log: () => {},
    ...rest,
  });
  await app.ready;
  apps.push(app);
  return app;
}

/** app.request as fetch, counting the rows of every answered infer request. */
function counting(app: {
  request: (url: string, init?: RequestInit) => Response | Promise<Response>;
}) {
  let rows = 0;
  const fetch: FetchLike = async (url, init) => {
    const res = await app.request(url, init);
    if (res.status === 200 && typeof init.body === 'string')
      rows += JSON.parse(init.body).inputs[0].shape[0];
    return res;
  };
  return { fetch, rows: () => rows };
}

const connect = (fetch: FetchLike, extra: { budget?: number } = {}) =>
  HttpOracle.connect({ url: 'http://hashguard.test', model: 'm', fetch, ...extra });
const base = { url: 'http://hashguard.test', seed: 1, dataset: 'mnist', command: 'test' };

describe('remote audit', () => {
  test('scores served: Square per ε, equal to the same Square runs on a local oracle; all queries accounted', async () => {
    const c = counting(await appWith({ scores: 'logits' }));
    const oracle = await connect(c.fetch);
    const report = await runRemoteAudit({
      ...base,
      oracle,
      x,
      y,
      eps: [0.3, 0.1],
      squareQueries: 150,
    });
    expect(report.kind).toBe('remote');
    expect(report.server).toMatchObject({
      model: 'm',
      access: 'scores',
      scores: 'logits',
      randomized: false,
    });
    expect(report.attacks.map((a) => [a.id, a.eps, a.n])).toEqual([
      ['square', 0.1, 20],
      ['square', 0.3, 20],
    ]);
    expect(report.cleanAccuracy).toBe(
      argmaxRows(noGrad(() => plain.network.forward(x))).filter((p, i) => p === y.data[i]).length /
        20,
    );
    for (const a of report.attacks) {
      // One group (20 ≤ 32 images): the audit ran Square with seed deriveStream(1, 0).
      const local = await new Square({ eps: a.eps, maxQueries: 150, seed: deriveStream(1, 0) }).run(
        new ScoreOracle(plain.network),
        x,
        y,
      );
      expect(a.successRate).toBe(successRate(local));
      expect(a.medianLinf).toBeLessThanOrEqual(a.eps + 1e-6);
    }
    expect(report.attacks[1].successRate).toBeGreaterThan(0.5);
    expect(report.checks.map((k) => [k.id, k.pass])).toEqual([['monotone-in-eps', true]]);
    expect(report.queries).toBe(c.rows());
    expect(report.queries).toBe(20 + report.attacks.reduce((s, a) => s + a.queries, 0));
    expect(report.stopped).toBeNull();
    const md = remoteAuditMarkdown(report);
    expect(md).toContain('| Square L∞ on returned logits');
    expect(md).toContain('scores (logits)');
  }, 120_000);

  test('labels only: HopSkipJump once, counted within each ε (success non-decreasing in ε)', async () => {
    const c = counting(await appWith());
    const oracle = await connect(c.fetch);
    await expect(
      runRemoteAudit({ ...base, oracle, x, y, eps: [0.3], attacks: ['square'] }),
    ).rejects.toThrow('Square needs scores');
    const six = Array.from({ length: 6 }, (_, i) => i);
    const report = await runRemoteAudit({
      ...base,
      oracle,
      x: takeRows(x, six),
      y: takeRows(y, six),
      eps: [0.05, 0.2, 0.4],
      hsjQueries: 200,
      groupSize: 3,
    });
    expect(report.server.access).toBe('labels');
    expect(report.attacks.map((a) => [a.id, a.eps, a.n])).toEqual([
      ['hsj', 0.05, 6],
      ['hsj', 0.2, 6],
      ['hsj', 0.4, 6],
    ]);
    const rates = report.attacks.map((a) => a.successRate);
    for (let i = 1; i < rates.length; i++) expect(rates[i]).toBeGreaterThanOrEqual(rates[i - 1]);
    expect(rates[2]).toBeGreaterThan(0);
    for (const a of report.attacks)
      if (!Number.isNaN(a.medianLinf))
        expect(a.medianLinf).toBeLessThanOrEqual(a.eps * (1 + 1e-6) + 1e-7);
    expect(report.queries).toBe(c.rows());
  }, 120_000);

  test('randomized model: verdicts by most of 10 fresh queries, each one counted', async () => {
    const c = counting(await appWith({ model: await giModel() }));
    const oracle = await connect(c.fetch);
    const four = [0, 1, 2, 3];
    const report = await runRemoteAudit({
      ...base,
      oracle,
      x: takeRows(x, four),
      y: takeRows(y, four),
      eps: [0.3],
      hsjQueries: 40,
    });
    expect(report.server.randomized).toBe(true);
    expect(report.verdictQueries).toBe(10);
    expect(report.queries).toBe(c.rows());
    // Clean check: 10 queries per image; the attack's rows add the attack and 9 more verdict queries per image.
    expect(report.queries - report.attacks[0].queries).toBe(40);
    expect(report.attacks[0].queries).toBeGreaterThanOrEqual(4 * 2 + 4 * 9);
  }, 120_000);

  test('a small server budget ends the audit with a partial report, not a crash', async () => {
    const c = counting(await appWith({ scores: 'logits', budgets: { limit: 700 } }));
    const oracle = await connect(c.fetch);
    const report = await runRemoteAudit({
      ...base,
      oracle,
      x,
      y,
      eps: [0.05, 0.3],
      squareQueries: 400,
      groupSize: 5,
    });
    expect(report.stopped).toContain('429');
    const first = report.attacks[0];
    expect(first.n).toBeLessThan(20);
    expect(first.n % 5).toBe(0);
    expect(first.stopped).toContain('429');
    expect(report.attacks[1].n).toBe(0); // the budget was gone before the second ε
    expect(report.queries).toBeLessThanOrEqual(700);
    expect(report.queries).toBe(c.rows());
    expect(remoteAuditMarkdown(report)).toContain('Stopped early by a query budget');
  }, 120_000);
});

describe('bun run audit -- --url', () => {
  test('audits a real server over HTTP and writes JSON and Markdown', async () => {
    const app = await appWith({ scores: 'probabilities', budgets: { limit: 5000 } });
    const server = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: (req, srv) => app.fetch(req, { clientAddress: srv.requestIP(req)?.address }),
    });
    try {
      const out = join(tmp, 'remote-m');
      const proc = Bun.spawn(
        [
          process.execPath,
          join(ROOT, 'src/cli/main.ts'),
          'audit',
          '--url',
          `http://127.0.0.1:${server.port}`,
          '--model',
          'm',
          '--api-key',
          'secret-key',
          '--count',
          '6',
          '--eps',
          '0.1,0.3',
          '--max-queries',
          '60',
          '--out',
          out,
        ],
        { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' },
      );
      // Await the output and the exit concurrently: the server answers from this process's event loop.
      const [code, err] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
      expect(err).toContain('wrote');
      expect(code).toBe(0);
      const report = JSON.parse(readFileSync(`${out}.json`, 'utf8'));
      expect(report).toMatchObject({
        kind: 'remote',
        dataset: 'mnist',
        n: 6,
        seed: 1,
        server: { model: 'm', access: 'scores', scores: 'probabilities' },
      });
      expect(report.indexSha256).toMatch(/^[0-9a-f]{64}$/);
      expect(report.attacks.map((a: { eps: number }) => a.eps)).toEqual([0.1, 0.3]);
      expect(report.command).not.toContain('secret-key');
      expect(report.weightsSha256).toBeUndefined(); // never mistaken for the model's full audit by /robustness
      expect(readFileSync(`${out}.md`, 'utf8')).toContain('# Remote robustness audit: m');
    } finally {
      server.stop(true);
    }
  }, 120_000);

  test('remote-only flags are refused without --url (the local audit is unchanged)', async () => {
    const run = async (...extra: string[]) => {
      const proc = Bun.spawn(
        [
          process.execPath,
          join(ROOT, 'src/cli/main.ts'),
          'audit',
          '--model',
          'models/mnist-lenet5-h8',
          ...extra,
        ],
        { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' },
      );
      const [code, err] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
      return { code, err };
    };
    const maxQueries = await run('--max-queries', '100');
    expect(maxQueries.code).toBe(2);
    expect(maxQueries.err).toContain('--max-queries applies to the remote audit only');
    // --eps is shared: the local audit takes one radius, so the remote audit's list is refused by name.
    const epsList = await run('--eps', '0.1,0.3');
    expect(epsList.code).toBe(2);
    expect(epsList.err).toContain('--eps: expected a number or a fraction in (0, 1]');
  }, 30_000);
});

// --require-audit (issue 8 item 9): readiness and inference answer 503 until the audit folder holds a report
// for the model's exact weights; a report for other weights does not count; without the option nothing waits.
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseServeConfig } from '../../src/serve/config.ts';
import { inferBody, mnistDigits, plainModel, post, testApp } from './helpers.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const freshDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'hashguard-require-audit-'));
  dirs.push(d);
  return d;
};

describe('--require-audit', () => {
  test('not ready (503 with Retry-After) until an audit of exactly these weights appears', async () => {
    const auditDir = freshDir();
    let clock = 0;
    const app = await testApp({ auditDir, requireAudit: true, now: () => clock, budgets: false });
    const sha = (await plainModel()).manifest.weights.sha256;
    const digits = mnistDigits(2);

    const ready = await app.request('/v2/models/plain/ready');
    expect(ready.status).toBe(503);
    expect(ready.headers.get('retry-after')).toBe('30');
    expect((await ready.json()).error).toContain(`no audit report for weights ${sha}`);
    const health = await app.request('/v2/health/ready');
    expect(health.status).toBe(503);
    expect((await health.json()).error).toContain('plain (no audit of its weights)');
    const refused = await post(app, '/v2/models/plain/infer', inferBody(digits.floats));
    expect(refused.status).toBe(503);
    expect(refused.json.error).toContain('--require-audit');

    // A report for other weights does not count.
    writeFileSync(join(auditDir, 'other.json'), JSON.stringify({ weightsSha256: '0'.repeat(64) }));
    clock += 5000;
    expect((await app.request('/v2/models/plain/ready')).status).toBe(503);

    writeFileSync(
      join(auditDir, 'plain.json'),
      JSON.stringify({ weightsSha256: sha, createdAt: '2026-01-01T00:00:00Z' }),
    );
    // A miss is cached for a second: still 503 at the same instant, ready once the clock moves on.
    expect((await app.request('/v2/models/plain/ready')).status).toBe(503);
    clock += 1000;
    const now = await app.request('/v2/models/plain/ready');
    expect(now.status).toBe(200);
    expect(await now.json()).toEqual({ name: 'plain', ready: true });
    const ok = await post(app, '/v2/models/plain/infer', inferBody(digits.floats));
    expect(ok.status).toBe(200);
    // The other model (the GI one, other weights) is still unaudited, so the server as a whole is not ready.
    expect((await app.request('/v2/models/gi/ready')).status).toBe(503);
    expect((await app.request('/v2/health/ready')).status).toBe(503);
    const metrics = await (await app.request('/metrics')).text();
    expect(metrics).toMatch(/reason="not_ready"\} 1\b/);
    await app.close();
  });

  test('without the option an unaudited model is ready', async () => {
    const app = await testApp({ auditDir: freshDir(), budgets: false });
    expect((await app.request('/v2/models/plain/ready')).status).toBe(200);
    expect((await app.request('/v2/health/ready')).status).toBe(200);
    await app.close();
  });

  test('the flag reaches createApp options', () => {
    expect(parseServeConfig(['--require-audit'], {}).options.requireAudit).toBe(true);
    expect(parseServeConfig([], {}).options.requireAudit).toBeUndefined();
  });
});

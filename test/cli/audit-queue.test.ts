// A distributed audit on a real Redis (REDIS_URL_TEST): `audit --queue` with three `worker` processes, one killed
// with SIGKILL in the middle of a job, writes the report a single process writes with the same flags, figure for
// figure; the killed job runs again on another worker. Shards merged give it too. Without Redis: one skip line
// (a failure under CI=true, which starts one).
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subprocess } from 'bun';
import type { AuditReport } from '../../src/audit/index.ts';
import { connectionOf, keyOfJobId, queueJobId } from '../../src/cli/audit-queue.ts';
import { reportNumbers } from '../helpers/audit-family.ts';
import { serviceMissing } from '../helpers/services.ts';

const url = process.env.REDIS_URL_TEST;
const ROOT = join(import.meta.dir, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'hashguard-queue-'));
const queueName = `hashguard-test-${process.pid}-${Date.now()}`;
const workers: Subprocess[] = [];

// A small audit whose jobs last long enough to be killed in: EOT-PGD on the randomized configuration.
const AUDIT = [
  '--model',
  'models/mnist-lenet5-h8',
  '--n',
  '12',
  '--n-query',
  '6',
  '--seed',
  '4',
  '--attacks',
  'fgsm,pgd-ce,eot-pgd,square',
  '--configurations',
  'hashed,random',
  '--block',
  '4',
  '--certify',
  'ibp',
  '--progress',
  'plain',
];

const cli = (args: string[]) =>
  Bun.spawn([process.execPath, 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    stdout: 'pipe',
    stderr: 'pipe',
    env: { ...process.env, NO_COLOR: '1' },
  });

/** Runs a command to its end; throws with its output when it fails. */
async function run(args: string[]): Promise<string> {
  const p = cli(args);
  const [out, err, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  if (code !== 0) throw new Error(`${args.join(' ')} exited ${code}:\n${out}\n${err}`);
  return out + err;
}

/** A report file's figures (timings and the command left out). */
const numbers = (file: string) =>
  reportNumbers(JSON.parse(readFileSync(file, 'utf8')) as AuditReport);

/** A worker process whose log lines are collected as they come (stderr: the progress sink's). */
function startWorker(): { proc: Subprocess; lines: string[]; started: Promise<string> } {
  const proc = cli(['worker', '--queue', url!, '--queue-name', queueName, '--lock-seconds', '2']);
  workers.push(proc);
  const lines: string[] = [];
  let firstJob: (key: string) => void = () => {};
  const started = new Promise<string>((r) => (firstJob = r));
  void (async () => {
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
      buf += decoder.decode(chunk);
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        lines.push(line);
        const m = /job (\S+ ?\S*) started/.exec(line);
        if (m) firstJob(line.replace(/^.*job /, '').replace(/ started.*$/, ''));
      }
    }
  })();
  return { proc, lines, started };
}

afterAll(() => {
  for (const w of workers) w.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('queue addresses and job ids', () => {
  test('redis:// URLs give BullMQ connections; anything else is refused by name', () => {
    expect(connectionOf('redis://10.0.0.5:6380/2')).toEqual({
      host: '10.0.0.5',
      port: 6380,
      db: 2,
      maxRetriesPerRequest: null,
    });
    expect(connectionOf('redis://:s%40cret@host').password).toBe('s@cret');
    expect(connectionOf('redis://host').port).toBe(6379);
    expect(() => connectionOf('http://host:6379')).toThrow(/expected redis:\/\/HOST/);
    expect(() => connectionOf('redis://host/x')).toThrow(/database 'x'/);
    expect(() => connectionOf('not a url')).toThrow(/expected redis:\/\/HOST/);
  });

  test("job ids hold no ':' (BullMQ's separator) and give their key back", () => {
    for (const key of ['attack/hashed+GI random/eot-pgd/3', 'checks/dense AT', 'a:b.c%d']) {
      const id = queueJobId('0123456789abcdef', key);
      expect(id).not.toContain(':');
      expect(id.startsWith('0123456789abcdef.')).toBe(true);
      expect(keyOfJobId(id)).toBe(key);
    }
  });
});

if (!url) {
  serviceMissing(
    'Redis (distributed audit)',
    'set REDIS_URL_TEST=redis://127.0.0.1:6379 with a running redis-server (Debian package redis-server)',
  );
} else {
  describe('distributed audit on BullMQ', () => {
    test('three workers, one killed mid-job: the report equals the single-process one', async () => {
      const single = join(dir, 'single');
      await run([
        'audit',
        ...AUDIT,
        '--out',
        single,
        '--checkpoint',
        join(dir, 'single-checkpoint.json'),
      ]);
      const ws = [startWorker(), startWorker(), startWorker()];
      const queued = join(dir, 'queued');
      const coordinator = run([
        'audit',
        ...AUDIT,
        '--queue',
        url,
        '--queue-name',
        queueName,
        '--out',
        queued,
        '--checkpoint',
        join(dir, 'queued-checkpoint.json'),
      ]);
      // The first worker to start a job is killed outright while it runs it (its first job also loads the audit).
      const victim = await Promise.race(ws.map((w, i) => w.started.then((key) => ({ i, key }))));
      ws[victim.i].proc.kill('SIGKILL');
      const log = await coordinator;
      expect(log).toContain('queue: 23 of 23 done');
      expect(log).toContain('stalled (its worker stopped answering)');
      expect(numbers(`${queued}.json`)).toBe(numbers(`${single}.json`));
      // The killed worker's job came back on the queue and another worker ran it.
      const others = ws.filter((_, i) => i !== victim.i).flatMap((w) => w.lines);
      expect(others.some((l) => l.includes(`job ${victim.key} started`))).toBe(true);
      expect(others.some((l) => l.includes(`job ${victim.key} done`))).toBe(true);
    }, 240_000);

    test('without Redis: three shards, merged, give the same report', async () => {
      const parts = [0, 1, 2].map((i) => join(dir, `part-${i}`));
      await Promise.all(
        parts.map((p, i) => run(['audit', ...AUDIT, '--shard', `${i}/3`, '--out', p])),
      );
      const merged = join(dir, 'merged');
      const log = await run([
        'audit',
        ...AUDIT,
        '--merge-shards',
        parts.map((p) => `${p}.json`).join(','),
        '--out',
        merged,
        '--checkpoint',
        join(dir, 'merged-checkpoint.json'),
      ]);
      expect(log).toContain('23 jobs of 4 images or fewer; 23 done before');
      expect(numbers(`${merged}.json`)).toBe(numbers(join(dir, 'single.json')));
    }, 240_000);

    test('a worker refuses a queue URL it cannot use, naming it', async () => {
      const p = cli(['worker', '--queue', 'http://127.0.0.1:6379']);
      const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
      expect(code).not.toBe(0);
      expect(err).toContain('expected redis://HOST');
    });
  });
}

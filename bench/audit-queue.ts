// `bun run bench:audit-queue`: a distributed MNIST audit on 1, 2 and 4 worker processes (BullMQ on the Redis at
// --queue, default redis://127.0.0.1:6379) beside the same audit cut into jobs in one process, all with the same
// flags; wall time, speed-up, and the coordinator's overhead per job (its CPU time over the jobs, and the 1-worker
// wall time minus the in-process one, over the jobs).
// Every report is checked to equal the in-process one. Writes bench/results/<date>-audit-queue-<runtime>.json.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machineInfo, scriptFlags, sourceRevision } from '../src/cli/index.ts';
import { writeFileAtomic } from '../src/io/index.ts';
import { freshFile } from './fresh-file.ts';

const usage = `usage: bun run bench:audit-queue -- [--queue redis://127.0.0.1:6379] [--workers 1,2,4] [--n 100] [--n-query 20] [--block 10]
  (the MNIST audit of models/mnist-cnn-h8 and models/mnist-cnn, default suite and configurations)`;
const argv = process.argv.slice(2);
const v = scriptFlags(usage, {
  queue: { type: 'string' },
  workers: { type: 'string' },
  n: { type: 'string' },
  'n-query': { type: 'string' },
  block: { type: 'string' },
});
const url = (v.queue as string | undefined) ?? 'redis://127.0.0.1:6379';
const counts = ((v.workers as string | undefined) ?? '1,2,4').split(',').map(Number);
const n = (v.n as string | undefined) ?? '100';
const nQuery = (v['n-query'] as string | undefined) ?? '20';
const block = (v.block as string | undefined) ?? '10';
const ROOT = join(import.meta.dir, '..');
const dir = mkdtempSync(join(tmpdir(), 'hashguard-bench-queue-'));
const AUDIT = [
  '--model',
  'models/mnist-cnn-h8',
  '--dense',
  'models/mnist-cnn',
  '--n',
  n,
  '--n-query',
  nQuery,
  '--seed',
  '1',
  '--block',
  block,
  '--progress',
  'plain',
];

const spawn = (args: string[]) =>
  Bun.spawn([process.execPath, 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    stdout: 'pipe',
    stderr: 'pipe',
  });

async function audit(
  extra: string[],
  out: string,
): Promise<{ seconds: number; cpuSeconds: number; log: string }> {
  const t0 = performance.now();
  const p = spawn([
    'audit',
    ...AUDIT,
    ...extra,
    '--out',
    out,
    '--checkpoint',
    `${out}-checkpoint.json`,
  ]);
  const [o, e, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  if (code !== 0) throw new Error(`audit exited ${code}:\n${o}\n${e}`);
  // The coordinator's own CPU time (user + system, microseconds), its threads included.
  const usage = p.resourceUsage();
  const cpuSeconds = usage ? Number(usage.cpuTime.user + usage.cpuTime.system) / 1e6 : NaN;
  return { seconds: (performance.now() - t0) / 1000, cpuSeconds, log: o + e };
}

const numbers = (file: string) => {
  const r = JSON.parse(readFileSync(file, 'utf8'));
  return JSON.stringify({
    ...r,
    date: 0,
    seconds: 0,
    command: '',
    configurations: r.configurations.map((c: Record<string, unknown>) => ({
      ...c,
      certifySeconds: 0,
      attacks: (c.attacks as Record<string, unknown>[]).map((a) => ({ ...a, seconds: 0 })),
    })),
  });
};

const single = await audit([], join(dir, 'single'));
const jobs = Number(/(\d+) jobs of/.exec(single.log)?.[1]);
console.log(
  `in one process: ${single.seconds.toFixed(1)} s (CPU ${single.cpuSeconds.toFixed(1)} s), ${jobs} jobs`,
);
const rows: {
  workers: number;
  seconds: number;
  speedUp: number;
  coordinatorCpuSeconds: number;
  sameReport: boolean;
}[] = [];
for (const w of counts) {
  const name = `hashguard-bench-${process.pid}-${w}`;
  const workers = Array.from({ length: w }, () =>
    spawn(['worker', '--queue', url, '--queue-name', name]),
  );
  try {
    const r = await audit(['--queue', url, '--queue-name', name], join(dir, `queue-${w}`));
    const same = numbers(join(dir, `queue-${w}.json`)) === numbers(join(dir, 'single.json'));
    rows.push({
      workers: w,
      seconds: r.seconds,
      speedUp: 0,
      coordinatorCpuSeconds: r.cpuSeconds,
      sameReport: same,
    });
    console.log(
      `${w} workers: ${r.seconds.toFixed(1)} s (coordinator CPU ${r.cpuSeconds.toFixed(1)} s); report identical: ${same}`,
    );
  } finally {
    for (const p of workers) p.kill('SIGTERM');
    await Promise.all(workers.map((p) => p.exited));
  }
}
const one = rows.find((r) => r.workers === 1);
for (const r of rows) r.speedUp = one ? one.seconds / r.seconds : NaN;
const machine = machineInfo();
const date = new Date().toISOString();
const report = {
  date,
  command: `bun run bench:audit-queue${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
  note:
    `The MNIST audit (${AUDIT.join(' ')}) cut into ${jobs} jobs: once in one process, then through BullMQ on ` +
    `${url} with 1, 2 and 4 worker processes on this machine (${machine.cores} cores: more workers than cores ` +
    'oversubscribe them). seconds: wall time of the coordinator from start to report, worker start-up included. ' +
    "speedUp: 1-worker seconds over these. coordinatorCpuSeconds: the coordinator process's CPU time (user + " +
    'system): subset, magnitude calibration, queueing, collecting and checkpointing results, assembling the ' +
    'report. coordinatorCpuPerJobSeconds: that over the jobs (the 1-worker run). wallOverheadPerJobSeconds: ' +
    "(1-worker wall − in-process wall) / jobs; negative where the coordinator's own work (checkpoints, assembly) " +
    "overlaps the worker's on the second core.",
  machine,
  source: sourceRevision(),
  inProcessSeconds: single.seconds,
  inProcessCpuSeconds: single.cpuSeconds,
  jobs,
  coordinatorCpuPerJobSeconds: one ? one.coordinatorCpuSeconds / jobs : null,
  wallOverheadPerJobSeconds: one ? (one.seconds - single.seconds) / jobs : null,
  runs: rows,
};
rmSync(dir, { recursive: true, force: true });
const file = freshFile(
  join(
    import.meta.dir,
    'results',
    `${date.slice(0, 10)}-audit-queue-${machine.runtime.split(' ')[0]}.json`,
  ),
);
await writeFileAtomic(file, JSON.stringify(report, null, 2) + '\n');
console.log(`wrote ${file}`);

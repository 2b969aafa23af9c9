// `bun run bench:memory`: memory of each model at serving. Per model, the server (bun src/serve/bun.ts, 2 inference
// workers, budgets off) starts as a child; after a warm-up its resident set (VmRSS of /proc/<pid>/status) is the
// model's footprint, then a long run of single-image /v2 infer requests shows whether it grows (target: at most 5%).
// The resident set swings by several percent as the collector runs, so growth is judged on the trend of 51 samples
// (a least-squares line over the run), not on two samples that may sit at different points of a GC cycle.
// Writes bench/results/<date>-memory-<runtime>[-quick].json.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  machineInfo,
  number,
  scriptFlags,
  sourceRevision,
  usageExit,
  withUsage,
} from '../src/cli/index.ts';
import { syntheticDataset } from '../src/data/index.ts';
import { loadModelDir, writeFileAtomic } from '../src/io/index.ts';
import { startServer } from './serve-child.ts';
import { freshFile } from './fresh-file.ts';

const USAGE = `usage: bun run bench:memory -- [--quick] [--requests N] [--models a,b] [--detect off|log|block]   (or: bun bench/memory.ts …)
  Resident memory of the server per model after a warm-up, and its growth over N single-image infer requests
  (default 100,000; target at most 5%). Writes bench/results/<date>-memory-<runtime>[-quick].json.
  --requests N   requests per model after the warm-up (default 100000; --quick 2000)
  --models LIST  committed models to serve, one server each (default: the MLP, LeNet-5 and CIFAR CNN and their h8 twins)
  --detect MODE  the server's query-attack detection (default off: its bounded fingerprint store would fill by design)
  --quick        2,000 requests per model (a smoke test)`;
const DEFAULT_MODELS = [
  'mnist-mlp',
  'mnist-mlp-h8',
  'mnist-lenet5',
  'mnist-lenet5-h8',
  'cifar10-cnn',
  'cifar10-cnn-h8',
];
const TARGET_GROWTH_PERCENT = 5,
  CLIENTS = 8,
  SAMPLES = 50; // intervals: 51 samples with the one after warm-up

const argv = process.argv.slice(2);
const flags = scriptFlags(
  USAGE,
  {
    quick: { type: 'boolean' },
    requests: { type: 'string' },
    models: { type: 'string' },
    detect: { type: 'string' },
  },
  argv,
);
const quick = Boolean(flags.quick);
const requests = withUsage(USAGE, () =>
  number(flags, 'requests', quick ? 2000 : 100_000, { integer: true, min: 100, max: 10_000_000 }),
);
const models = flags.models ? String(flags.models).split(',') : DEFAULT_MODELS;
const detect = String(flags.detect ?? 'off');
if (!['off', 'log', 'block'].includes(detect))
  usageExit(USAGE, `--detect: expected off, log or block, got '${detect}'`);
const warmup = quick ? 200 : 10_000;
const MiB = 2 ** 20;

/** Percent growth over the run of the least-squares line through (requests, rssMiB), relative to its value at 0. */
function trendGrowth(samples: { requests: number; rssMiB: number }[]): number {
  const n = samples.length,
    mx = samples.reduce((a, s) => a + s.requests, 0) / n,
    my = samples.reduce((a, s) => a + s.rssMiB, 0) / n;
  let sxy = 0,
    sxx = 0;
  for (const s of samples) {
    sxy += (s.requests - mx) * (s.rssMiB - my);
    sxx += (s.requests - mx) ** 2;
  }
  const slope = sxy / sxx,
    at0 = my - slope * mx;
  return ((slope * samples[n - 1].requests) / at0) * 100;
}

/** VmRSS (and the peak, VmHWM) of a process, in bytes. */
function residentBytes(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** `count` requests from CLIENTS concurrent clients, bodies in turn; the answers' statuses counted. */
async function drive(
  send: (i: number) => Promise<number>,
  count: number,
  statuses: Record<string, number>,
) {
  let next = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < count) {
        const s = String(await send(next++).catch(() => 'error'));
        statuses[s] = (statuses[s] ?? 0) + 1;
      }
    }),
  );
}

const rows = [];
for (const model of models) {
  const dir = join(import.meta.dir, '../models', model);
  const { manifest } = await loadModelDir(dir);
  const shape = manifest.input.shape as [number, number, number];
  // 256 distinct seeded images, each one request body (OIP v2 FP32, batch 1).
  const images = syntheticDataset({ count: 256, shape, classes: 10, seed: 1 });
  const per = shape[0] * shape[1] * shape[2];
  const bodies = Array.from({ length: 256 }, (_, i) =>
    JSON.stringify({
      inputs: [
        {
          name: 'input',
          shape: [1, ...shape],
          datatype: 'FP32',
          data: Array.from(images.images.subarray(i * per, (i + 1) * per)),
        },
      ],
    }),
  );
  const server = await startServer([
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--model',
    `${model}=${dir}`,
    '--workers',
    '2',
    '--budget-limit',
    '0',
    '--detect',
    detect,
  ]);
  try {
    const url = `${server.url}/v2/models/${model}/infer`;
    const send = (i: number) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: bodies[i % bodies.length],
      }).then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      });
    const statuses: Record<string, number> = {};
    await drive(send, warmup, statuses);
    const start = residentBytes(server.pid);
    const samples = [{ requests: 0, rssMiB: +(start.rss / MiB).toFixed(1) }];
    const t0 = performance.now();
    const measured: Record<string, number> = {};
    for (let k = 1; k <= SAMPLES; k++) {
      await drive(
        send,
        Math.round((requests * k) / SAMPLES) - Math.round((requests * (k - 1)) / SAMPLES),
        measured,
      );
      samples.push({
        requests: Math.round((requests * k) / SAMPLES),
        rssMiB: +(residentBytes(server.pid).rss / MiB).toFixed(1),
      });
    }
    const seconds = (performance.now() - t0) / 1000;
    const end = residentBytes(server.pid);
    const mid = samples[Math.floor(SAMPLES / 2)].rssMiB;
    const trend = trendGrowth(samples);
    const row = {
      model,
      rssAfterWarmupMiB: +(start.rss / MiB).toFixed(1),
      rssAfterMiB: +(end.rss / MiB).toFixed(1),
      peakMiB: +(end.peak / MiB).toFixed(1),
      growthPercent: +(((end.rss - start.rss) / start.rss) * 100).toFixed(2),
      // A bounded cache fills early and then stays flat; a leak keeps growing in the second half too.
      secondHalfGrowthPercent: +(((end.rss / MiB - mid) / mid) * 100).toFixed(2),
      // The growth a least-squares line through every sample gives over the run, relative to its value at 0.
      trendGrowthPercent: +trend.toFixed(2),
      pass: trend <= TARGET_GROWTH_PERCENT,
      requestsPerSec: Math.round(requests / seconds),
      statuses: measured,
      warmupStatuses: statuses,
      samples,
    };
    console.log(
      `${model}: ${row.rssAfterWarmupMiB} MiB after warm-up, ${row.rssAfterMiB} MiB after ${requests} requests (trend ${row.trendGrowthPercent}%; last sample ${row.growthPercent}%, second half ${row.secondHalfGrowthPercent}%), ${row.requestsPerSec} req/s, statuses ${JSON.stringify(measured)}`,
    );
    rows.push(row);
  } finally {
    await server.stop();
  }
}

const machine = machineInfo();
const date = new Date().toISOString();
const report = {
  date,
  command: `bun run bench:memory${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
  note:
    'One server per model (bun src/serve/bun.ts --workers 2 --budget-limit 0 --detect MODE), driven by 8 concurrent ' +
    'clients sending single-image OIP v2 FP32 infer requests (256 distinct synthetic images in turn). rssAfterWarmupMiB: ' +
    `VmRSS after ${warmup} warm-up requests; trendGrowthPercent: the growth over the run of a least-squares line through ${SAMPLES + 1} ` +
    `VmRSS samples, relative to the line at 0 (target at most ${TARGET_GROWTH_PERCENT}%; pass judges this); growthPercent: the last sample ` +
    'relative to the first (it swings with the collector).',
  machine,
  source: sourceRevision(),
  requests,
  settings: {
    warmup,
    clients: CLIENTS,
    workers: 2,
    detect,
    describe: `2 inference workers, ${CLIENTS} clients, detection ${detect}`,
  },
  targetGrowthPercent: TARGET_GROWTH_PERCENT,
  models: rows,
};
const file = freshFile(
  join(
    import.meta.dir,
    'results',
    `${date.slice(0, 10)}-memory-${machine.runtime.split(' ')[0]}${quick ? '-quick' : ''}.json`,
  ),
);
await writeFileAtomic(file, JSON.stringify(report, null, 2) + '\n');
console.log(`wrote ${file}`);

// `bun run bench:serve`: the HTTP server under load from a second process. For single-image
// :classify (PNG) and batch-32 /infer (FP32 JSON): a closed loop estimates the sustainable rate R, then open-model
// phases at 0.5R, 0.8R and 2R, then 0.3R right after the overload to time the recovery. Writes
// bench/results/<date>-serve-<runtime>.json (machine, command, server flags, every phase); timings, no assertions.
// Then the query-attack detector's cost: single-image :classify at a fixed rate against two fresh servers, the
// default one (its store filled first) and one with --detect off, phases alternating, p50 and p99 side by side.
// Every request comes from its own address (X-Forwarded-For, this machine trusted as the proxy) with one of 1,024
// distinct digits, as benign traffic does.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { parse, UsageError, machineInfo, sourceRevision, withUsage } from '../src/cli/index.ts';
import { parseIdx } from '../src/data/index.ts';
import { defaultMnistDir } from '../src/data/node.ts';
import { writeFileAtomic } from '../src/io/index.ts';
import { SERVER_ENTRY, startServer, type ServerChild } from './serve-child.ts';
import {
  closedLoop,
  openLoop,
  recoveredAfterS,
  recoveryWindows,
  sleep,
  summarize,
  type PhaseSummary,
  type Send,
} from './serve-load.ts';
import { freshFile } from './fresh-file.ts';

const USAGE = `usage: bun bench/serve.ts [flags]   (or: bun run bench:serve -- [flags])
  --duration-s S     length of each open-model phase at 0.5R, 0.8R and 2R (default 8; --quick 1)
  --closed-s S       closed-loop phase that estimates the sustainable rate R (default 5; --quick 1)
  --recovery-s S     phase at 0.3R right after the 2R overload (default 12; --quick 3)
  --clients N        closed-loop clients (default 8)
  --workers N --max-queue N --deadline-ms N   the server's flags (default: the server's)
  --detect-rate R --detect-rounds N   detection cost: R req/s (default 1000), N on/off rounds (default 8; --quick 1)
  --detect-only      only the detection cost (no load phases)
  --quick            very short phases (a smoke test; the numbers mean little)
  --out FILE         write the JSON here instead of bench/results/<date>-serve-<runtime>.json`;

/** Targets of the serving benchmark. */
const SHED_P99_MS = 50,
  RECOVERY_S = 10;
const OPEN_FACTORS = [0.5, 0.8, 2] as const,
  RECOVERY_FACTOR = 0.3;

function flags(argv: string[]) {
  const one = { type: 'string' } as const;
  const v = parse(argv, {
    'duration-s': one,
    'closed-s': one,
    'recovery-s': one,
    clients: one,
    workers: one,
    'max-queue': one,
    'deadline-ms': one,
    'detect-rate': one,
    'detect-rounds': one,
    quick: { type: 'boolean' },
    'detect-only': { type: 'boolean' },
    out: one,
  });
  const num = (k: string, fallback: number, integer = false) => {
    const raw = v[k] as string | undefined,
      n = Number(raw);
    if (raw === undefined) return fallback;
    if (!(n > 0) || !Number.isFinite(n) || (integer && !Number.isSafeInteger(n)))
      throw new UsageError(
        `--${k}: expected a positive ${integer ? 'integer' : 'number'}, got '${raw}'`,
      );
    return n;
  };
  const quick = !!v.quick;
  const server = [
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--budget-limit',
    '0',
    '--trust-proxy',
    '127.0.0.1',
  ];
  for (const k of ['workers', 'max-queue', 'deadline-ms'] as const)
    if (v[k] !== undefined) server.push(`--${k}`, v[k] as string);
  return {
    quick,
    detectOnly: !!v['detect-only'],
    out: v.out as string | undefined,
    server,
    durationS: num('duration-s', quick ? 1 : 8),
    closedS: num('closed-s', quick ? 1 : 5),
    recoveryS: num('recovery-s', quick ? 3 : 12),
    clients: num('clients', 8, true),
    detectRate: num('detect-rate', 1000),
    detectRounds: num('detect-rounds', quick ? 1 : 8, true),
    warmupS: quick ? 0.3 : 2,
    pauseS: quick ? 0.2 : 1,
    timeoutMs: quick ? 10_000 : 20_000,
  };
}
type Settings = ReturnType<typeof flags>;

/** The first n MNIST test digits as bytes (n·784). */
function digits(n: number): Uint8Array {
  return parseIdx(
    readFileSync(join(defaultMnistDir(), 't10k-images-idx3-ubyte')),
    't10k-images',
    3,
  ).data.slice(0, n * 784);
}

function digitPng(digit: Uint8Array): Uint8Array<ArrayBuffer> {
  const png = new pngjs.PNG({ width: 28, height: 28, colorType: 0, inputColorType: 6 });
  for (let i = 0; i < 784; i++) {
    png.data[4 * i] = png.data[4 * i + 1] = png.data[4 * i + 2] = digit[i];
    png.data[4 * i + 3] = 255;
  }
  return new Uint8Array(pngjs.PNG.sync.write(png, { colorType: 0, inputColorType: 6 }));
}

interface Workload {
  name: string;
  route: string;
  imagesPerRequest: number;
  bodyBytes: number;
  send: Send;
}

const DISTINCT = 1024; // 32 batches of 32
let sender = 0;
/** A new client address per request (10.x.y.z): benign one-off clients, never a run of near-copies. */
const nextAddress = () => {
  const k = sender++;
  return `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`;
};

/**
 * (a) one 28×28 PNG per :classify request (1,024 distinct digits in turn); (b) 32 digits per OIP v2 FP32 infer
 * request (32 batches of distinct digits in turn).
 */
function workloads(url: string, model: string, timeoutMs: number): Workload[] {
  const d = digits(DISTINCT);
  const post = (path: string, type: string, body: string | Uint8Array<ArrayBuffer>) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': type, 'x-forwarded-for': nextAddress() },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    }).then(async (r) => {
      await r.arrayBuffer();
      return r.status;
    });
  const pngs = Array.from({ length: DISTINCT }, (_, i) =>
    digitPng(d.subarray(i * 784, (i + 1) * 784)),
  );
  const batches = Array.from({ length: 32 }, (_, b) =>
    JSON.stringify({
      inputs: [
        {
          name: 'input',
          shape: [32, 1, 28, 28],
          datatype: 'FP32',
          data: Array.from(d.subarray(b * 32 * 784, (b + 1) * 32 * 784), (v) =>
            Math.fround(v / 255),
          ),
        },
      ],
    }),
  );
  let k = 0,
    j = 0;
  return [
    {
      name: 'classify',
      route: `POST /v1/models/${model}:classify`,
      imagesPerRequest: 1,
      bodyBytes: pngs[0].length,
      send: () => post(`/v1/models/${model}:classify`, 'image/png', pngs[k++ % pngs.length]),
    },
    {
      name: 'infer-batch-32',
      route: `POST /v2/models/${model}/infer`,
      imagesPerRequest: 32,
      bodyBytes: batches[0].length,
      send: () =>
        post(`/v2/models/${model}/infer`, 'application/json', batches[j++ % batches.length]),
    },
  ];
}

/** The server's shed counters by reason (from /metrics). */
async function serverSheds(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Object.fromEntries(
    [...text.matchAll(/^hashguard_shed_total\{reason="(\w+)"\} (\d+)$/gm)].map((m) => [
      m[1],
      Number(m[2]),
    ]),
  );
}
const diff = (a: Record<string, number>, b: Record<string, number>) =>
  Object.fromEntries(Object.keys(b).map((k) => [k, b[k] - (a[k] ?? 0)]));

/** All phases of one workload against the running server. */
async function runWorkload(w: Workload, url: string, s: Settings) {
  console.log(
    `\n${w.name} (${w.route}, ${w.imagesPerRequest} image${w.imagesPerRequest > 1 ? 's' : ''}/request, ${w.bodyBytes} B body)`,
  );
  const first = await w.send();
  if (first !== 200) throw new Error(`${w.name}: a single request answered ${first}, expected 200`);
  await closedLoop(w.send, s.clients, s.warmupS * 1000); // JIT and worker warm-up, not recorded
  const t0 = performance.now();
  const closed = {
    clients: s.clients,
    durationS: s.closedS,
    ...summarize(await closedLoop(w.send, s.clients, s.closedS * 1000), t0),
  };
  const R = closed.throughput200PerS;
  if (!(R > 0))
    throw new Error(
      `${w.name}: no 200 answers in the closed loop (${JSON.stringify(closed.statuses)}, ${closed.errorSamples.join('; ')})`,
    );
  console.log(
    `  closed loop, ${s.clients} clients: R = ${R} req/s, p50 ${closed.latency200Ms.p50} ms, p99 ${closed.latency200Ms.p99} ms`,
  );
  await sleep(s.pauseS * 1000);

  type Recovery = Awaited<ReturnType<typeof runRecovery>>;
  const phases: (PhaseSummary & {
    name: string;
    factor: number;
    offeredRatePerS: number;
    durationS: number;
    images200PerS: number;
    maxOutstanding: number;
    serverSheds: Record<string, number>;
  })[] = [];
  let recovery: Recovery | null = null;
  for (const factor of OPEN_FACTORS) {
    const rate = Math.max(1, factor * R),
      before = await serverSheds(url);
    const phase = openLoop(w.send, rate, s.durationS * 1000);
    const baselineP99 = phases[0]?.latency200Ms.p99 ?? null;
    // NOTE: the recovery phase starts the moment the overload's last request is sent, not once it drained.
    const after =
      factor === 2
        ? phase.sent.then(() => runRecovery(w, Math.max(1, RECOVERY_FACTOR * R), s, baselineP99))
        : null;
    const summary = summarize(await phase.results, phase.startMs);
    const row = {
      name: `${factor}R`,
      factor,
      offeredRatePerS: Math.round(rate * 10) / 10,
      durationS: s.durationS,
      ...summary,
      images200PerS: Math.round(summary.throughput200PerS * w.imagesPerRequest),
      maxOutstanding: phase.maxOutstanding(),
      serverSheds: diff(before, await serverSheds(url)),
    };
    phases.push(row);
    console.log(
      `  ${row.name.padEnd(5)} offered ${row.offeredRatePerS} req/s: 200 ${row.throughput200PerS}/s (p50 ${row.latency200Ms.p50} ms, p99 ${row.latency200Ms.p99} ms), ` +
        `statuses ${JSON.stringify(row.statuses)}, errors ${row.errors}, shed p99 ${row.latencyShedMs.p99 ?? '-'} ms, send lag p99 ${row.sendLagMs.p99} ms`,
    );
    // NOTE: Bun's fetch keeps at most 256 requests in flight by default (BUN_CONFIG_MAX_HTTP_REQUESTS) and queues
    // the rest in the client; latency still counts from the schedule, but the server then sees fewer arrivals.
    if (row.maxOutstanding >= 256)
      console.log(
        `  note: ${row.maxOutstanding} requests were outstanding at once; the client may have held some back`,
      );
    if (after) recovery = await after;
    else await sleep(s.pauseS * 1000);
  }
  const overload = phases[phases.length - 1];
  const criteria = {
    shedP99Ms: overload.latencyShedMs.p99,
    shedWithin50Ms: overload.latencyShedMs.n ? overload.latencyShedMs.p99! <= SHED_P99_MS : null,
    recoveredAfterS: recovery!.recoveredAfterS,
    recoveredWithin10S:
      recovery!.recoveredAfterS !== null && recovery!.recoveredAfterS <= RECOVERY_S,
  };
  const yes = (v: boolean | null) =>
    v === null ? 'not exercised (nothing was shed)' : v ? 'PASS' : 'MISS';
  console.log(
    `  recovery at ${recovery!.offeredRatePerS} req/s: windows ${recovery!.windows.map((x) => (x.good ? '+' : '-')).join('')}, ` +
      `recovered after ${recovery!.recoveredAfterS ?? 'never'} s (threshold p99 ${recovery!.thresholdMs} ms)`,
  );
  console.log(
    `  overload: 503/429 p99 ${criteria.shedP99Ms ?? '-'} ms ≤ ${SHED_P99_MS} ms: ${yes(criteria.shedWithin50Ms)}; recovered ≤ ${RECOVERY_S} s: ${yes(criteria.recoveredWithin10S)}`,
  );
  return {
    name: w.name,
    route: w.route,
    imagesPerRequest: w.imagesPerRequest,
    bodyBytes: w.bodyBytes,
    sustainableRatePerS: R,
    closedLoop: closed,
    phases,
    recovery,
    criteria,
  };
}

/**
 * 0.3R for recoveryS in 1-second windows; "recovered" from the first window after which every answer is 200
 * with p99 within 2× the 0.5R phase's p99.
 */
async function runRecovery(w: Workload, rate: number, s: Settings, baselineP99: number | null) {
  const thresholdMs = baselineP99 === null ? Infinity : 2 * baselineP99;
  const phase = openLoop(w.send, rate, s.recoveryS * 1000);
  const shots = await phase.results;
  const windows = recoveryWindows(shots, phase.startMs, 1000, Math.ceil(s.recoveryS), thresholdMs);
  return {
    offeredRatePerS: Math.round(rate * 10) / 10,
    durationS: s.recoveryS,
    thresholdMs,
    ...summarize(shots, phase.startMs),
    maxOutstanding: phase.maxOutstanding(),
    windows,
    recoveredAfterS: recoveredAfterS(windows),
  };
}

/**
 * The detector's cost: :classify at `rate` against `on` (default settings) and `off` (--detect off), phases
 * alternating on, off, on, off, … so drift hits both alike; p50 and p99 of 200 answers per phase, their medians
 * over the rounds, and the ratios on / off. Also the detector store's size as the server reports it.
 */
async function detectionCost(on: ServerChild, off: ServerChild, s: Settings) {
  const send = (c: ServerChild) => workloads(c.url, c.model, s.timeoutMs)[0].send;
  const sends = { on: send(on), off: send(off) };
  // The detector's cost depends on how full its store is: the "on" server is warmed until its store stops
  // growing (full, the steady state of a busy server), the "off" one for as long, so both are as warm.
  const started = performance.now();
  let stored = -1;
  // (--quick: one warm-up pass, the store partly filled; a smoke test.)
  for (let k = 0; k < (s.quick ? 1 : 60); k++) {
    await closedLoop(sends.on, s.clients, s.warmupS * 1000);
    const now = storeGauges(await metricsText(on)).storeQueries;
    if (now === stored) break;
    stored = now;
  }
  const warmupS = Math.round((performance.now() - started) / 100) / 10;
  await closedLoop(sends.off, s.clients, warmupS * 1000);
  console.log(`  warmed both servers for ${warmupS} s; the store holds ${stored} queries`);
  // Rounds pair an "on" phase with an "off" phase, in the order on-off, then off-on, and so on (ABBA), so a
  // slow drift of the machine weighs on both alike; a round's ratio compares its two phases, minutes apart at
  // most, and the result is the median of the rounds' ratios (the medians of each side are reported too).
  type Side = { p50: number | null; p99: number | null; statuses: object };
  const rounds: { order: string; on: Side; off: Side; p50Ratio: number; p99Ratio: number }[] = [];
  for (let r = 0; r < s.detectRounds; r++) {
    const order = r % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
    const sides = {} as Record<'on' | 'off', Side>;
    for (const k of order) {
      const phase = openLoop(sends[k], s.detectRate, s.durationS * 1000);
      const summary = summarize(await phase.results, phase.startMs);
      sides[k] = {
        p50: summary.latency200Ms.p50,
        p99: summary.latency200Ms.p99,
        statuses: summary.statuses,
      };
      console.log(
        `  detect ${k.padEnd(3)} ${s.detectRate} req/s: p50 ${summary.latency200Ms.p50} ms, p99 ${summary.latency200Ms.p99} ms, statuses ${JSON.stringify(summary.statuses)}`,
      );
      await sleep(s.pauseS * 1000);
    }
    const ratio = (q: 'p50' | 'p99') => (sides.on[q] ?? NaN) / (sides.off[q] ?? NaN);
    rounds.push({
      order: order.join('-'),
      ...sides,
      p50Ratio: ratio('p50'),
      p99Ratio: ratio('p99'),
    });
  }
  const median = (v: number[]) => {
    const sorted = [...v].sort((a, b) => a - b),
      mid = sorted.length / 2;
    return sorted.length % 2 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
  };
  const round3 = (v: number) => Math.round(v * 1000) / 1000;
  const med = (k: 'on' | 'off', q: 'p50' | 'p99') =>
    round3(median(rounds.map((r) => r[k][q] ?? NaN)));
  // The rounds' spread: their ratios' lowest, quartiles and highest (how much one round can be trusted).
  const spread = (q: 'p50Ratio' | 'p99Ratio') => {
    const v = rounds.map((r) => r[q]).sort((a, b) => a - b),
      at = (f: number) => v[Math.round(f * (v.length - 1))];
    return { min: round3(v[0]), q1: round3(at(0.25)), q3: round3(at(0.75)), max: round3(at(1)) };
  };
  const result = {
    ratePerS: s.detectRate,
    phaseS: s.durationS,
    warmupS,
    rounds: rounds.map((r) => ({
      ...r,
      p50Ratio: round3(r.p50Ratio),
      p99Ratio: round3(r.p99Ratio),
    })),
    p50Ms: { on: med('on', 'p50'), off: med('off', 'p50') },
    p99Ms: { on: med('on', 'p99'), off: med('off', 'p99') },
    p50Ratio: round3(median(rounds.map((r) => r.p50Ratio))),
    p99Ratio: round3(median(rounds.map((r) => r.p99Ratio))),
    roundRatios: { p50: spread('p50Ratio'), p99: spread('p99Ratio') },
    targets: { p50Ratio: 1.05, p99Ratio: 1.1 },
    ...storeGauges(await metricsText(on)),
  };
  console.log(
    `  detection on/off at ${s.detectRate} req/s: p50 ×${result.p50Ratio} (≤ 1.05), p99 ×${result.p99Ratio} (≤ 1.10); store ${result.storeQueries} queries, ${result.storeBytes} bytes`,
  );
  return result;
}

const metricsText = async (c: ServerChild) => (await fetch(`${c.url}/metrics`)).text();
/** The detector store's size as the server reports it. */
function storeGauges(metrics: string) {
  const gauge = (name: string) =>
    Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(metrics)?.[1] ?? NaN);
  return {
    storeQueries: gauge('hashguard_detect_store_queries'),
    storeBytes: gauge('hashguard_detect_store_bytes'),
  };
}

let child: ServerChild | null = null;
let on: ServerChild | null = null;
let plain: ServerChild | null = null;
const stopAll = () => Promise.all([child?.stop(), on?.stop(), plain?.stop()]);
const onSignal = (signal: string) =>
  void stopAll().finally(() => {
    console.error(`bench:serve: ${signal}, server stopped`);
    process.exit(130);
  });
process.on('SIGINT', () => onSignal('SIGINT'));
process.on('SIGTERM', () => onSignal('SIGTERM'));

const argv = process.argv.slice(2);
// --help (exit 0) and bad flags (exit 2) end here, before the server starts.
const settings: Settings = withUsage(USAGE, () => flags(argv));
try {
  const loadAtStart = loadavg().map((v) => Math.round(v * 100) / 100);
  const results = [];
  if (!settings.detectOnly) {
    child = await startServer(settings.server);
    console.log(child.banner);
    for (const w of workloads(child.url, child.model, settings.timeoutMs))
      results.push(await runWorkload(w, child.url, settings));
  }
  const loadExitCode = await child?.stop();
  // Fresh servers for the detection cost, so neither carries the overload phases' heap.
  console.log(`\ndetection cost (:classify, the default server against one with --detect off)`);
  on = await startServer(settings.server);
  if (!child) console.log(on.banner);
  plain = await startServer([...settings.server, '--detect', 'off']);
  const detection = await detectionCost(on, plain, settings);
  const onExitCode = await on.stop();
  await plain.stop();
  const server = child ?? on;
  const serverExitCode = child ? loadExitCode : onExitCode;
  const machine = machineInfo();
  const report = {
    date: new Date().toISOString(),
    command: `bun run bench:serve${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    note:
      'Open model: requests leave on a uniform schedule whatever is outstanding; latency runs from the scheduled send time to the end ' +
      'of the answer body (no coordinated omission). R = 200 answers/s of the closed loop. ' +
      'serverSheds of the 2R phase run until its last answer, so they can include the first recovery-phase sheds. Client and server share this machine.',
    machine,
    source: sourceRevision(),
    bunVersion: Bun.version,
    loadAverageAtStart: loadAtStart,
    loadAverageAtEnd: loadavg().map((v) => Math.round(v * 100) / 100),
    server: {
      command: `bun ${SERVER_ENTRY} ${settings.server.join(' ')}`,
      banner: server.banner,
      model: server.model,
      backend: server.backend,
      workers: server.workers,
      exitCode: serverExitCode,
    },
    settings: {
      quick: settings.quick,
      durationS: settings.durationS,
      closedS: settings.closedS,
      recoveryS: settings.recoveryS,
      clients: settings.clients,
      detectOnly: settings.detectOnly,
      detectRate: settings.detectRate,
      detectRounds: settings.detectRounds,
      warmupS: settings.warmupS,
      requestTimeoutMs: settings.timeoutMs,
    },
    targets: {
      shedP99Ms: SHED_P99_MS,
      recoveryS: RECOVERY_S,
      overloadFactor: 2,
      recoveryRateFactor: RECOVERY_FACTOR,
    },
    workloads: results,
    detection,
  };
  const file =
    settings.out ??
    freshFile(
      join(
        import.meta.dir,
        'results',
        `${report.date.slice(0, 10)}-serve-${machine.runtime.split(' ')[0]}${settings.quick ? '-quick' : ''}.json`,
      ),
    );
  await writeFileAtomic(file, JSON.stringify(report, null, 2) + '\n');
  console.log(`\nwrote ${file}`);
  if (serverExitCode !== 0) console.log(`note: the server exited with code ${serverExitCode}`);
} catch (e) {
  console.error(`bench:serve: ${(e as Error).message}`);
  const tail = child?.stderrTail();
  if (tail) console.error(`server stderr (tail):\n${tail}`);
  await stopAll();
  process.exit(1);
}

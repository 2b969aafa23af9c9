// `bun run bench:detect`: the query-attack detector measured through the real HTTP API of a running server
// (default model and settings, scores revealed for the score-based attack): query attacks, one identity and one
// test image per run, until the server refuses them; then benign traffic (test splits plus varied copies over
// many clients); then the detection-versus-false-positive curve over the threshold, replayed on the same queries.
// Writes bench/results/<date>-detect-<runtime>.json (machine, commit, command). Figures, no assertions.
import { join } from 'node:path';
import {
  HopSkipJump,
  HttpOracle,
  QueryBudgetExceeded,
  RayS,
  Square,
  Substitute,
} from '../src/attacks/index.ts';
import { parse, UsageError, machineInfo, sourceRevision, withUsage } from '../src/cli/index.ts';
import { loadDataset } from '../src/data/node.ts';
import { deriveStream, fingerprint, normal, randomInt } from '../src/hash/index.ts';
import { loadModelDir, writeFileAtomic } from '../src/io/index.ts';
import { Sequential } from '../src/nn/index.ts';
import {
  DEFAULT_DETECT,
  DEFAULT_DETECT_SEED,
  MemoryDetectStore,
  resolveDetect,
} from '../src/serve/index.ts';
import { Tensor } from '../src/tensor/index.ts';
import { benignTraffic } from './benign-traffic.ts';
import { startServer, type ServerChild } from './serve-child.ts';
import { freshFile } from './fresh-file.ts';

const USAGE = `usage: bun bench/detect.ts [flags]   (or: bun run bench:detect -- [flags])
  --runs N       test images (one attacker identity each) per attack (default 100; --quick 5)
  --copies N     varied copies in the benign traffic (default 80000; --quick 2000)
  --clients N    benign clients (default 1000; --quick 50)
  --max-queries N  queries an attack may spend on one image (default 1000)
  --quick        a smoke test (the numbers mean little)
  --out FILE     write the JSON here instead of bench/results/<date>-detect-<runtime>.json`;

const MODEL = 'mnist-cnn-h8-at-gi';
const EPS = 0.3;
const ATTACKS = ['square', 'hsj', 'rays', 'substitute', 'square-adaptive'] as const;
type AttackId = (typeof ATTACKS)[number];
/** The adaptive attacker (OARS-style): every query shifted by up to SHIFT pixels and noised (σ NOISE), over IDENTITIES. */
const SHIFT = 1,
  NOISE = 0.1,
  IDENTITIES = 4;

const argv = process.argv.slice(2);
const flags = withUsage(USAGE, () => {
  const v = parse(argv, {
    runs: { type: 'string' },
    copies: { type: 'string' },
    clients: { type: 'string' },
    'max-queries': { type: 'string' },
    quick: { type: 'boolean' },
    out: { type: 'string' },
  });
  const int = (k: string, d: number) => {
    const n = v[k] === undefined ? d : Number(v[k]);
    if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${k}: expected an integer ≥ 1`);
    return n;
  };
  const quick = Boolean(v.quick);
  return {
    quick,
    runs: int('runs', quick ? 5 : 100),
    copies: int('copies', quick ? 2000 : 80_000),
    clients: int('clients', quick ? 50 : 1000),
    maxQueries: int('max-queries', 1000),
    out: v.out as string | undefined,
  };
});

/** X-Forwarded-For of identity k in group g (the server trusts this machine as its proxy). */
const address = (g: number, k: number) => `10.${g}.${(k >> 8) & 255}.${k & 255}`;

interface RunOutcome {
  image: number;
  /** Queries answered before the first refusal (null: never refused). */
  blockedAfter: number | null;
  answered: number;
  /** An answered query within ε of the image was misclassified: the attack had its example. */
  broken: boolean;
  /** The rows it sent (for the threshold curve), flattened. */
  rows: Float32Array[];
}

/** Each row shifted by up to SHIFT pixels (zero fill) and given Gaussian noise σ NOISE, clipped: a fresh draw per query. */
function transform(body: string, stream: number, counter: { n: number }): string {
  const b = JSON.parse(body);
  const t = b.inputs[0] as { shape: number[]; data: number[] };
  const d = 784;
  for (let r = 0; r < t.shape[0]; r++) {
    const c = counter.n++;
    const dx = randomInt(stream, 3 * c, 2 * SHIFT + 1) - SHIFT,
      dy = randomInt(stream, 3 * c + 1, 2 * SHIFT + 1) - SHIFT;
    const row = t.data.slice(r * d, (r + 1) * d);
    for (let y = 0; y < 28; y++)
      for (let i = 0; i < 28; i++) {
        const sy = y - dy,
          si = i - dx;
        const v = sy >= 0 && sy < 28 && si >= 0 && si < 28 ? row[sy * 28 + si] : 0;
        const noisy = v + NOISE * normal(deriveStream(stream, c), y * 28 + i);
        t.data[r * d + y * 28 + i] = Math.fround(Math.min(1, Math.max(0, noisy)));
      }
  }
  return JSON.stringify(b);
}

/**
 * fetch for one attacker: adds its address (or one of IDENTITIES in turn, transforming every query, for the
 * adaptive attacker), watches answers for refusals and adversarial examples.
 */
function watchedFetch(
  x: Float32Array,
  label: number,
  addr: string | string[],
  out: RunOutcome,
  adaptive: { stream: number } | null = null,
) {
  const counter = { n: 0 };
  let turn = 0;
  return async (url: string, init: RequestInit): Promise<Response> => {
    const post = init.method === 'POST' && typeof init.body === 'string';
    const body =
      post && adaptive ? transform(init.body as string, adaptive.stream, counter) : init.body;
    const res = await fetch(url, {
      ...init,
      body,
      headers: {
        ...(init.headers as Record<string, string>),
        'x-forwarded-for': Array.isArray(addr) ? addr[turn++ % addr.length] : addr,
      },
    });
    if (!post) return res;
    const sent = JSON.parse(body as string).inputs[0] as { shape: number[]; data: number[] };
    const k = sent.shape[0],
      d = x.length;
    if (res.status === 403) {
      out.blockedAfter ??= out.answered;
      return res;
    }
    if (!res.ok) return res;
    const answer = (await res.clone().json()) as { outputs: { name: string; data: number[] }[] };
    const labels = answer.outputs.find((o) => o.name === 'labels');
    const probs = answer.outputs.find((o) => o.name === 'probabilities');
    for (let r = 0; r < k; r++) {
      const row = Float32Array.from(sent.data.slice(r * d, (r + 1) * d));
      out.rows.push(row);
      let pred: number;
      if (labels) pred = labels.data[r];
      else {
        const p = probs!.data.slice(r * 10, (r + 1) * 10);
        pred = p.indexOf(Math.max(...p));
      }
      let dist = 0;
      for (let j = 0; j < d; j++) dist = Math.max(dist, Math.abs(row[j] - x[j]));
      if (pred !== label && dist <= EPS + 1e-6) out.broken = true;
    }
    out.answered += k;
    return res;
  };
}

async function attackRun(
  server: ServerChild,
  id: AttackId,
  image: number,
  x: Float32Array,
  label: number,
  addr: string,
  maxQueries: number,
): Promise<RunOutcome> {
  const out: RunOutcome = { image, blockedAfter: null, answered: 0, broken: false, rows: [] };
  const adaptive = id === 'square-adaptive';
  const oracle = await HttpOracle.connect({
    url: server.url,
    model: MODEL,
    fetch: adaptive
      ? watchedFetch(
          x,
          label,
          Array.from({ length: IDENTITIES }, (_, k) => address(100 + k, image)),
          out,
          { stream: deriveStream(image, 0x6f617273) },
        )
      : watchedFetch(x, label, addr, out),
    labelsOnly: id !== 'square' && !adaptive,
    budget: maxQueries,
    retries: 0,
  });
  const xt = new Tensor([1, 1, 28, 28], x),
    yt = new Tensor([1], Float32Array.of(label));
  const attack =
    id === 'square' || adaptive
      ? new Square({ eps: EPS, maxQueries, seed: image })
      : id === 'hsj'
        ? new HopSkipJump({ norm: 'linf', maxQueries, seed: image })
        : id === 'rays'
          ? new RayS({ eps: EPS, maxQueries })
          : // The query phase from this one image: its label, then Jacobian augmentation (λ 0.1) round by round.
            new Substitute({
              seedSet: xt,
              rounds: 6,
              epochs: 2,
              queryBudget: maxQueries,
              seed: image,
              classes: 10, // one seed image shows one class
            });
  try {
    const r = await attack.run(oracle, xt, yt);
    // The adaptive attacker's own verdict on its (untransformed) point, from the transformed answers it got.
    if (adaptive) out.broken = r.success[0];
  } catch (e) {
    // A refusal (403 query_attack_detected) or the run's own query budget ends the run; so does any error once
    // the server has refused the client (an attack that cannot even label its seed gives up with its own error).
    if (!(e instanceof QueryBudgetExceeded) && out.blockedAfter === null) throw e;
  }
  return out;
}

const median = (a: number[]) => {
  const s = [...a].sort((p, q) => p - q);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : null;
};

const t0 = performance.now();
const { test: mnist } = await loadDataset('mnist');
const { test: fashion } = await loadDataset('fashion-mnist');
/** The server's flags: defaults, but scores revealed (Square needs them) and this machine trusted as the proxy. */
const SERVER_FLAGS = [
  '--port',
  '0',
  '--scores',
  `${MODEL}=probabilities`,
  '--trust-proxy',
  '127.0.0.1',
];
const server = await startServer(SERVER_FLAGS);
console.log(server.banner);
const results: Record<string, unknown> = {};
try {
  // 1. Attacks, one fresh identity per image: the first test images the served weights classify correctly
  // (without the random GI draw, locally), as an audit attacks only what the model gets right.
  const { manifest, tensors } = await loadModelDir(join(import.meta.dir, '..', 'models', MODEL));
  const net = new Sequential(manifest.input.shape, manifest.layers, tensors);
  const predicted = net.predict(new Tensor([1000, 1, 28, 28], mnist.images.slice(0, 1000 * 784)));
  const attacked = [...predicted]
    .flatMap((p, i) => (p === mnist.labels[i] ? [i] : []))
    .slice(0, flags.runs);
  for (const [g, id] of ATTACKS.entries()) {
    const runs: RunOutcome[] = [];
    for (const i of attacked) {
      const x = mnist.images.slice(i * 784, (i + 1) * 784);
      runs.push(
        await attackRun(server, id, i, x, mnist.labels[i], address(g + 1, i), flags.maxQueries),
      );
    }
    const blocked = runs.filter((r) => r.blockedAfter !== null).map((r) => r.blockedAfter!);
    results[id] = {
      runs: runs.length,
      blocked: blocked.length,
      blockedWithin100: blocked.filter((q) => q <= 100).length,
      medianQueriesBeforeBlock: median(blocked),
      maxQueriesBeforeBlock: blocked.length ? Math.max(...blocked) : null,
      brokenBeforeBlock: runs.filter((r) => r.broken).length,
      perRun: runs.map((r) => ({
        image: r.image,
        blockedAfter: r.blockedAfter,
        answered: r.answered,
        broken: r.broken,
      })),
    };
    console.log(id, JSON.stringify({ ...(results[id] as object), perRun: undefined }));
  }

  // Where nothing detects them (a second server, --detect off, same images): what Square and the adaptive
  // Square achieve in the whole budget, and every attack's first 100 queries, which the curve below replays
  // (a refused run stops early, so its own queries cannot show what a looser threshold would let through).
  const undetected = await startServer([...SERVER_FLAGS, '--detect', 'off']);
  const curveStreams = {} as Record<AttackId, Float32Array[][]>;
  try {
    for (const [g, id] of ATTACKS.entries()) {
      const whole = id === 'square' || id === 'square-adaptive';
      const runs: RunOutcome[] = [];
      for (const i of attacked) {
        const x = mnist.images.slice(i * 784, (i + 1) * 784);
        runs.push(
          await attackRun(
            undetected,
            id,
            i,
            x,
            mnist.labels[i],
            address(200 + g, i),
            whole ? flags.maxQueries : 100,
          ),
        );
      }
      curveStreams[id] = runs.map((r) => r.rows.slice(0, 100));
      if (!whole) continue;
      results[`${id}WithoutDetection`] = {
        runs: runs.length,
        broken: runs.filter((r) => r.broken).length,
        medianQueries: median(runs.map((r) => r.answered)),
      };
      console.log(`${id} without detection`, JSON.stringify(results[`${id}WithoutDetection`]));
    }
  } finally {
    await undetected.stop();
  }

  // 2. Benign traffic: JSON rows, or the JPEG itself to :classify when the copy was re-encoded.
  const images = new Uint8Array(20_000 * 784);
  images.set(
    Uint8Array.from(mnist.images, (v) => Math.round(v * 255)),
    0,
  );
  images.set(
    Uint8Array.from(fashion.images, (v) => Math.round(v * 255)),
    10_000 * 784,
  );
  const traffic = benignTraffic({
    images,
    side: 28,
    copies: flags.copies,
    clients: flags.clients,
    retryShare: 0.01,
    seed: 1,
  });
  const status = new Int16Array(traffic.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < traffic.length; i = next++) {
      const q = traffic[i];
      const headers = { 'x-forwarded-for': `172.16.${q.client >> 8}.${q.client & 255}` };
      const res = q.jpeg
        ? await fetch(`${server.url}/v1/models/${MODEL}:classify`, {
            method: 'POST',
            headers: { ...headers, 'content-type': 'image/jpeg' },
            body: q.jpeg as Uint8Array<ArrayBuffer>,
          })
        : await fetch(`${server.url}/v2/models/${MODEL}/infer`, {
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/json' },
            body: `{"inputs":[{"name":"input","shape":[1,1,28,28],"datatype":"UINT8","data":[${q.pixels.join(',')}]}]}`,
          });
      await res.arrayBuffer();
      status[i] = res.status;
    }
  };
  const tb = performance.now();
  // Several requests in flight, in order: clients interleave as real traffic does.
  await Promise.all(Array.from({ length: 8 }, worker));
  const blockedQueries = [...status].filter((s) => s === 403).length;
  const flaggedClients = new Set(traffic.filter((q, i) => status[i] === 403).map((q) => q.client));
  const others = [...status].filter((s) => s !== 200 && s !== 403).length;
  results.benign = {
    queries: traffic.length,
    clients: flags.clients,
    retries: traffic.filter((q) => q.kind === 'retry').length,
    jpegUploads: traffic.filter((q) => q.jpeg).length,
    blockedQueries,
    blockedShare: blockedQueries / traffic.length,
    flaggedClients: flaggedClients.size,
    flaggedClientShare: flaggedClients.size / flags.clients,
    otherErrors: others,
    seconds: Math.round((performance.now() - tb) / 100) / 10,
  };
  console.log('benign', JSON.stringify(results.benign));

  // 3. The curve: the same benign queries and attack streams replayed through the store over thresholds.
  const base = resolveDetect();
  const params = { ...base.fingerprint, seed: DEFAULT_DETECT_SEED };
  const fp = (x: ArrayLike<number>) => fingerprint(x, [1, 28, 28], params);
  const benignFps = traffic.map((q) => fp(Float32Array.from(q.pixels, (v) => v / 255)));
  const curve = [];
  const grid = [1, 2, 3, 4, 5, 6, 8, 10, 15, 20].flatMap((flagAfter) =>
    (flagAfter === 5 ? [0.4, 0.5, 0.6] : [0.5]).map((matchShare) => ({ flagAfter, matchShare })),
  );
  for (const { flagAfter, matchShare } of grid) {
    {
      const s = { ...base, flagAfter, matchShare };
      const store = new MemoryDetectStore({ ...s, topK: s.fingerprint.topK });
      // The detector's own rule, through the store: a query is suspicious on a match with one of the client's
      // own stored queries or a crowd of others'; a client is flagged at flagAfter of its last `window`.
      const judge = async (who: string, f: Uint32Array) => {
        const [m] = await store.observe(who, [f], 0);
        const { after } = await store.record(who, [m.own >= 1 || m.others >= s.crowd], 0);
        return after >= flagAfter;
      };
      const flagged = new Set<number>();
      let blocked = 0;
      for (let i = 0; i < traffic.length; i++) {
        const c = traffic[i].client;
        if (flagged.has(c)) blocked++;
        else if (await judge(`b${c}`, benignFps[i])) flagged.add(c);
      }
      const detection: Record<string, number> = {};
      for (const id of ATTACKS) {
        let caught = 0;
        for (const [r, rows] of curveStreams[id].entries()) {
          for (const [q, row] of rows.entries()) {
            if (q >= 100) break;
            // The adaptive attacker's queries went out from IDENTITIES addresses in turn.
            const who = id === 'square-adaptive' ? `a${id}${r}:${q % IDENTITIES}` : `a${id}${r}`;
            if (await judge(who, fp(row))) {
              caught++;
              break;
            }
          }
        }
        detection[id] = curveStreams[id].length ? caught / curveStreams[id].length : 0;
      }
      console.log(
        `curve: flagAfter ${flagAfter}, matchShare ${matchShare}: ${JSON.stringify(detection)}`,
      );
      curve.push({
        flagAfter,
        matchShare,
        benignBlockedShare: blocked / traffic.length,
        benignFlaggedClientShare: flagged.size / flags.clients,
        detectedWithin100: detection,
      });
    }
  }
  results.curve = curve;
} finally {
  results.serverExitCode = await server.stop();
}

const report = {
  date: new Date().toISOString(),
  command: `bun run bench:detect${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
  note:
    `Server: default settings (detection ${DEFAULT_DETECT.mode}, in-memory store) with scores revealed for ${MODEL} (Square needs them) ` +
    'and this machine trusted as a proxy, so each run and each benign client is its own address (X-Forwarded-For). One test image and one fresh identity per attack run; ' +
    "blockedAfter = queries answered before the first 403; broken = an answered query within L∞ ε 0.3 of the image came back misclassified. The substitute attack's " +
    'query phase starts from the run image alone (6 augmentation rounds). Benign: MNIST and Fashion-MNIST test splits plus varied copies (shifts ≤ 2 px, brightness, ' +
    'contrast, JPEG re-encoding sent as uploads, Gaussian noise σ 0.02), random clients, 1% exact retries. The curve replays the same benign fingerprints and ' +
    "each attack's first 100 queries against a server with --detect off (same images, fresh identities) through the in-memory store.",
  machine: machineInfo(),
  source: sourceRevision(),
  settings: { ...flags, eps: EPS, model: MODEL, detect: resolveDetect() },
  seconds: Math.round((performance.now() - t0) / 1000),
  results,
};
const date = new Date().toISOString().slice(0, 10);
const out =
  flags.out ??
  freshFile(
    join(import.meta.dir, 'results', `${date}-detect-bun${flags.quick ? '-quick' : ''}.json`),
  );
await writeFileAtomic(out, `${JSON.stringify(report, null, 1)}\n`);
console.log(`wrote ${out}`);
process.exit(0);

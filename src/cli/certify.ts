// `hashguard certify`: certified accuracy of a model directory on its test split over the L∞ ball of radius ε
// (interval bound propagation, docs/verify.md), optionally each image's certified radius by bisection; one
// JSON summary line on stdout, and with --out a JSON report (every image) and a Markdown summary.
import { loadDataset } from '../data/node.ts';
import type { DatasetName } from '../data/index.ts';
import { loadModelDir, writeFileAtomic } from '../io/index.ts';
import { Sequential } from '../nn/index.ts';
import { standardError } from '../runtime/index.ts';
import { certify, type Randomness } from '../verify/index.ts';
import { noGrad } from '../autodiff/index.ts';
import { argmaxRow, Tensor } from '../tensor/index.ts';
import { choice, number, parse, radius, requireString, UsageError } from './args.ts';
import { machineInfo, sourceRevision } from './machine.ts';
import { guardReport } from './output-guard.ts';
import { formatDuration, progressSink } from './progress.ts';

export const certifyUsage = `usage: bun run certify -- --model models/NAME --eps E [--method ibp] [--n N] [--radius] [--out BASE [--force]]
  Certified accuracy over the L∞ ball of radius E (a number or a fraction, e.g. 0.3 or 8/255) clipped to [0, 1],
  on the first N test images (default all): an image is certified when its label's margin over every other
  class is provably positive for every input in the ball. --radius also finds each image's certified radius by
  bisection (log scale, 10⁻⁶ to 1). --out BASE writes BASE.json (every image) and BASE.md.
  A defended model is certified as it answers: static GI stages are in its weights; a random stage for every
  logit scale and every last-layer noise draw within ±5σ per weight (the report states the rest's probability).
  Methods: ibp (interval bound propagation). CROWN-IBP and CROWN are not built yet.`;

/** Bisection steps of the certified radius over six decades. */
const RADIUS_STEPS = 12;

interface ImageResult {
  index: number;
  label: number;
  predicted: number;
  certified: boolean;
  /** The smallest margin lower bound over the other classes (positive: certified). */
  marginLower: number;
  radius?: number;
}

export async function certifyCommand(argv: string[]): Promise<void> {
  const v = parse(argv, {
    model: { type: 'string' },
    eps: { type: 'string' },
    method: { type: 'string' },
    n: { type: 'string' },
    radius: { type: 'boolean' },
    out: { type: 'string' },
    force: { type: 'boolean' },
  });
  const dir = requireString(v, 'model');
  const eps = radius(v, 'eps');
  if (eps === undefined) throw new UsageError('--eps is required');
  const method = choice(v, 'method', ['ibp', 'crown-ibp', 'crown'] as const, 'ibp');
  if (method !== 'ibp')
    throw new UsageError(`--method ${method}: not built yet; ibp is (docs/verify.md)`);
  const out = v.out as string | undefined;
  if (out) guardReport(out, ['.json', '.md'], Boolean(v.force));
  const { manifest, tensors } = await loadModelDir(dir);
  // A defended model answers through its defense: static stages (magnitude, scale) are already in its stored
  // weights; a random stage's draws are covered by Randomness (every logit scale, last-layer noise within ±Kσ).
  const stages = (manifest.defense?.stages ?? []) as { kind: string; noise?: number }[];
  const random = stages.find((st) => st.kind === 'random');
  const model = new Sequential(manifest.input.shape, manifest.layers, tensors);
  const draws = random ? randomDraws(model, random.noise ?? 0) : null;
  const data = await loadDataset(manifest.provenance.dataset.name as DatasetName, {
    seed: manifest.provenance.seed,
  });
  const n = number(v, 'n', data.test.count, { integer: true, min: 1, max: data.test.count });
  const size = manifest.input.shape.reduce((a, b) => a * b, 1);
  const sink = progressSink(standardError());
  const images: ImageResult[] = [];
  const t0 = performance.now();
  let certifiedCount = 0,
    correctCount = 0,
    width = 0;
  for (let i = 0; i < n; i++) {
    const x = data.test.images.subarray(i * size, (i + 1) * size);
    const label = data.test.labels[i];
    const logits = noGrad(() => model.forward(new Tensor([1, ...model.inputShape], x))).data;
    const predicted = argmaxRow(logits, 0, logits.length);
    const c = certify(model, x, label, eps, [0, 1], draws?.randomness);
    const marginLower = Math.min(...Array.from(c.marginLower).filter((m) => !Number.isNaN(m)));
    const r: ImageResult = { index: i, label, predicted, certified: c.certified, marginLower };
    if (predicted === label) correctCount++;
    if (c.certified) certifiedCount++;
    for (let j = 0; j < c.logits.lo.length; j++) width += c.logits.hi[j] - c.logits.lo[j];
    if (v.radius) r.radius = certifiedRadius(model, x, label, draws?.randomness);
    images.push(r);
    const done = i + 1,
      sec = (performance.now() - t0) / 1000;
    sink.update(
      `certify ${manifest.name} ε ${round(eps)}: ${done}/${n} images, ${certifiedCount} certified (${pct(certifiedCount / done)}), ${formatDuration((sec / done) * (n - done))} left`,
      done / n,
    );
  }
  const seconds = (performance.now() - t0) / 1000;
  const radii = images.flatMap((r) => (r.radius === undefined ? [] : [r.radius]));
  const summary = {
    model: manifest.name,
    method,
    eps,
    n,
    cleanAccuracy: correctCount / n,
    certifiedAccuracy: certifiedCount / n,
    certified: certifiedCount,
    /** Mean total width of the logits' bounds per image (how loose the bounds are). */
    meanLogitBoundWidth: width / n,
    ...(radii.length ? { medianCertifiedRadius: median(radii) } : {}),
    defense: stages.length ? stages : null,
    ...(draws ? { randomDraws: draws.statement } : {}),
    secondsPerImage: seconds / n,
    seconds,
  };
  sink.log(
    `certified ${certifiedCount} of ${n} (${pct(certifiedCount / n)}), clean ${pct(correctCount / n)}, ${round((seconds / n) * 1000)} ms per image`,
  );
  console.log(JSON.stringify(summary));
  if (!out) return;
  const report = {
    ...summary,
    command: `bun run certify -- ${argv.join(' ')}`,
    date: new Date().toISOString(),
    machine: machineInfo(),
    source: sourceRevision(),
    rounding:
      'bounds computed in float64 and widened by the float32 forward pass worst-case rounding (docs/verify.md)',
    images,
  };
  await writeFileAtomic(`${out}.json`, JSON.stringify(report, null, 2) + '\n');
  await writeFileAtomic(`${out}.md`, markdown(report));
}

/**
 * The largest radius at which the image is certified, by bisection on a log scale between 10⁻⁶ and 1
 * (RADIUS_STEPS steps: within 0.4% of the true value); 0 when not certified even at 10⁻⁶.
 */
function certifiedRadius(
  model: Sequential,
  x: Float32Array,
  label: number,
  randomness?: Randomness,
): number {
  const at = (e: number) => certify(model, x, label, e, [0, 1], randomness).certified;
  if (!at(1e-6)) return 0;
  if (at(1)) return 1;
  let lo = -6,
    hi = 0;
  for (let s = 0; s < RADIUS_STEPS; s++) {
    const mid = (lo + hi) / 2;
    if (at(10 ** mid)) lo = mid;
    else hi = mid;
  }
  return 10 ** lo;
}

function markdown(r: {
  model: string;
  method: string;
  eps: number;
  n: number;
  cleanAccuracy: number;
  certifiedAccuracy: number;
  meanLogitBoundWidth: number;
  medianCertifiedRadius?: number;
  secondsPerImage: number;
  command: string;
  date: string;
}): string {
  return `# Certified accuracy of ${r.model}

${r.method.toUpperCase()} over the L∞ ball of radius ${round(r.eps)} clipped to [0, 1], on the first ${r.n} test images.

| clean | certified | mean logit bound width | ${r.medianCertifiedRadius !== undefined ? 'median certified radius | ' : ''}time per image |
| --- | --- | --- | ${r.medianCertifiedRadius !== undefined ? '--- | ' : ''}--- |
| ${pct(r.cleanAccuracy)} | ${pct(r.certifiedAccuracy)} | ${round(r.meanLogitBoundWidth)} | ${r.medianCertifiedRadius !== undefined ? `${round(r.medianCertifiedRadius)} | ` : ''}${round(r.secondsPerImage * 1000)} ms |

Certified: for every input in the ball, the label's logit provably exceeds every other (bounds sound for the
float32 forward pass). \`${r.command}\`, ${r.date}.
`;
}

/** Noise draws beyond ±K standard deviations are not covered (their probability is stated). */
const NOISE_SIGMAS = 5;
/** P(|N(0, 1)| > 5): the chance that one weight's draw leaves the covered range. */
const BEYOND_5_SIGMA = 5.733e-7;

/**
 * The random stage's draws a certificate covers: every logit scale (positive, so every margin keeps its sign)
 * and every last-layer noise draw with each weight's standard normal within ±NOISE_SIGMAS, i.e. each weight
 * scaled by [1 − K·noise, 1 + K·noise] (plus its float32 rounding, 3u).
 */
function randomDraws(model: Sequential, noise: number) {
  const u = 2 ** -24,
    k = NOISE_SIGMAS * noise;
  const last = [...model.layers].reverse().find((l) => 'weight' in l) as { weight: string };
  const weights = model.params.get(last.weight)!.size;
  const beyond = noise > 0 ? Math.min(1, weights * BEYOND_5_SIGMA) : 0;
  return {
    randomness: { logitScale: true, lastLayerRelative: noise > 0 ? k + 3 * u * (1 + k) : 0 },
    statement:
      noise > 0
        ? `every logit scale of the random stage, and every last-layer noise draw whose ${weights} standard normals stay within ±${NOISE_SIGMAS} (a draw outside has probability at most ${beyond.toPrecision(3)}, by the union bound)`
        : 'every logit scale of the random stage (no weight noise)',
  };
}

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
const round = (v: number) => Math.round(v * 1e4) / 1e4;
function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b),
    m = s.length / 2;
  return s.length % 2 ? s[Math.floor(m)] : (s[m - 1] + s[m]) / 2;
}

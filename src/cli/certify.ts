// `hashguard certify`: certified accuracy of a model directory on its test split over the L∞ ball of radius ε
// (IBP, CROWN-IBP or CROWN, docs/verify.md), on every core, optionally each image's certified radius by
// bisection; one JSON summary line on stdout, and with --out a JSON report (every image) and a Markdown summary.
import { existsSync, rmSync } from 'node:fs';
import { loadModelDir, writeFileAtomic } from '../io/index.ts';
import { Sequential } from '../nn/index.ts';
import { setExitCode } from '../runtime/index.ts';
import { BOUND_METHODS, randomStageCoverage } from '../verify/index.ts';
import {
  machineThreads,
  runCertify,
  type CertifyInput,
  type CertifyResult,
} from '../parallel/index.ts';
import { withWorkers } from './threads-flag.ts';
import { noGrad } from '../autodiff/index.ts';
import { argmaxRow, Tensor } from '../tensor/index.ts';
import { flags, choice, number, parse, radius, requireString, UsageError } from './args.ts';
import { dataOptions, modelData, modelDataUsage } from './data-flags.ts';
import { machineInfo, sourceRevision } from './machine.ts';
import { guardReport } from './output-guard.ts';
import { progressFromFlags, progressOptions, progressUsage } from './progress.ts';
import { listenForStop, nextTurn, STOPPED_EXIT_CODE } from './stop.ts';

export const certifyUsage = `usage: bun run certify -- --model models/NAME --eps E [--method ibp|crown-ibp|crown] [--n N] [--radius] [--threads T] [--out BASE [--force]]
  Certified accuracy over the L∞ ball of radius E (a number or a fraction, e.g. 0.3 or 8/255) clipped to [0, 1],
  on the first N test images (default all): an image is certified when its label's margin over every other
  class is provably positive for every input in the ball. --radius also finds each image's certified radius by
  bisection (log scale, 10⁻⁶ to 1). --threads T certifies on T workers (default: every core).
  --out BASE writes BASE.json (every image, and each layer's bound cost) and BASE.md.
  Methods: ibp (interval bound propagation), crown-ibp (interval boxes, margins back-substituted through linear
  relaxations to the input), crown (back-substitution for every unstable relu too: tightest, slowest).
  A defended model is certified as it answers: static GI stages are in its weights; a random stage for every
  logit scale and every last-layer noise draw within ±5σ per weight (the report states the rest's probability).
${modelDataUsage('1: every image')}
${progressUsage}
  Ctrl-C or SIGTERM stops after the chunks of images under way and exits 130: with --out, the images certified so
  far go to BASE.partial.json (marked "partial": true; no BASE.json or BASE.md), without it nothing is written.`;

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
    ...flags('model eps method n threads out', 'radius force'),
    ...dataOptions,
    ...progressOptions,
  });
  const dir = requireString(v, 'model');
  const eps = radius(v, 'eps');
  if (eps === undefined) throw new UsageError('--eps is required');
  const method = choice(v, 'method', BOUND_METHODS, 'ibp');
  const threads = number(v, 'threads', machineThreads(), { integer: true, min: 1, max: 256 });
  const out = v.out as string | undefined;
  if (out) guardReport(out, ['.json', '.md'], Boolean(v.force));
  const { manifest, tensors } = await loadModelDir(dir);
  const sink = progressFromFlags(v);
  // A defended model answers through its defense: static stages (magnitude, scale) are already in its stored
  // weights; a random stage's draws are covered by Randomness (every logit scale, last-layer noise within ±Kσ).
  const stages = (manifest.defense?.stages ?? []) as { kind: string; noise?: number }[];
  const random = stages.find((st) => st.kind === 'random');
  const model = new Sequential(manifest.input.shape, manifest.layers, tensors);
  const draws = random ? randomStageCoverage(model, random.noise ?? 0) : null;
  const { data } = await modelData(
    v,
    { dir, manifest },
    {
      seed: manifest.provenance.seed,
      allByDefault: true,
      log: (l) => sink.log(l),
    },
  );
  const n = number(v, 'n', data.test.count, { integer: true, min: 1, max: data.test.count });
  const size = manifest.input.shape.reduce((a, b) => a * b, 1);
  const t0 = performance.now();
  const predicted = predictions(model, data.test.images, n, size);
  const labels = Int32Array.from(data.test.labels.subarray(0, n));
  const layers = model.layers.length;
  const results = {
    certified: new Uint8Array(n),
    marginLower: new Float64Array(n),
    logitWidth: new Float64Array(n),
    radius: new Float64Array(n),
    forward: new Float64Array(layers),
    backward: new Float64Array(layers),
  };
  let done = 0,
    certifiedCount = 0;
  const chunk = v.radius ? 4 : 25;
  const starts = Array.from({ length: Math.ceil(n / chunk) }, (_, i) => i * chunk);
  const input = (a: number): CertifyInput => {
    const b = Math.min(n, a + chunk);
    return {
      x: data.test.images.slice(a * size, b * size),
      labels: labels.slice(a, b),
      n: b - a,
      eps,
      method,
      range: [0, 1],
      randomness: draws?.randomness ?? {},
      radius: Boolean(v.radius),
    };
  };
  const take = (a: number, r: CertifyResult) => {
    results.certified.set(r.certified, a);
    results.marginLower.set(r.marginLower, a);
    results.logitWidth.set(r.logitWidth, a);
    results.radius.set(r.radius, a);
    for (let i = 0; i < layers; i++) {
      results.forward[i] += r.forward[i];
      results.backward[i] += r.backward[i];
    }
    done += r.certified.length;
    certifiedCount += r.certified.reduce((p, q) => p + q, 0);
    task.update(done, {
      fields: { certified: certifiedCount },
      detail: `${certifiedCount} certified (${pct(certifiedCount / done)})`,
    });
  };
  // Listening before the start event: whoever reacts to it with a signal finds the listener there.
  const stop = listenForStop(
    sink,
    `after the chunks of images under way${out ? `, the images done so far in ${out}.partial.json` : ''}`,
  );
  const task = sink.task('certify', n, 'images', {
    fields: { model: manifest.name, method, eps: round(eps) },
  });
  // Chunks are taken in order and a signal only stops the taking: the images done are always the first `done`.
  if (threads === 1)
    for (const a of starts) {
      if (stop.signal) break;
      take(a, runCertify(model, input(a)));
      await nextTurn(); // the certification is synchronous: let a signal in between chunks
    }
  else
    await withWorkers(threads, async (pool) => {
      // Every worker takes the next chunk as soon as it is free: no worker idles while another has a queue.
      let next = 0;
      await Promise.all(
        Array.from({ length: pool!.size }, async (_, w) => {
          while (next < starts.length && !stop.signal) {
            const a = starts[next++];
            take(a, await pool!.certify(model, input(a), w));
          }
        }),
      );
    });
  stop.dispose();
  const signal = stop.signal;
  // Stopped by a signal: the summary and report cover the images done (the first `done`), marked partial.
  const m = signal ? done : n;
  const seconds = (performance.now() - t0) / 1000;
  const images: ImageResult[] = Array.from({ length: m }, (_, i) => ({
    index: i,
    label: labels[i],
    predicted: predicted[i],
    certified: results.certified[i] === 1,
    marginLower: results.marginLower[i],
    ...(v.radius ? { radius: results.radius[i] } : {}),
  }));
  const correctCount = images.filter((r) => r.predicted === r.label).length;
  const radii = v.radius ? Array.from(results.radius.subarray(0, m)) : [];
  const sum = (a: Float64Array) => a.subarray(0, m).reduce((p, q) => p + q, 0);
  const summary = {
    model: manifest.name,
    method,
    eps,
    n: m,
    cleanAccuracy: correctCount / m,
    certifiedAccuracy: certifiedCount / m,
    certified: certifiedCount,
    /** Mean total width of the logits' interval bounds per image (how loose the boxes are). */
    meanLogitBoundWidth: sum(results.logitWidth) / m,
    /** Mean over images of the smallest margin lower bound (higher: tighter bounds). */
    meanWorstMarginLower: sum(results.marginLower) / m,
    ...(radii.length ? { medianCertifiedRadius: median(radii) } : {}),
    defense: stages.length ? stages : null,
    ...(draws ? { randomDraws: draws.statement } : {}),
    threads,
    secondsPerImage: seconds / m,
    seconds,
    /** Thread time per image and layer: interval propagation and back-substitution (milliseconds). */
    boundCosts: model.layers.map((l, i) => ({
      layer: i,
      type: l.type,
      intervalMs: results.forward[i] / m,
      backSubstitutionMs: results.backward[i] / m,
    })),
  };
  const report = () => ({
    ...summary,
    command: `bun run certify -- ${argv.join(' ')}`,
    date: new Date().toISOString(),
    machine: machineInfo(),
    source: sourceRevision(),
    rounding:
      'bounds computed in float64 and widened by the float32 forward pass worst-case rounding (docs/verify.md)',
    images,
  });
  if (signal) {
    // A partial result is never taken for a finished one: its own file name, marked, and nothing on stdout.
    const file = out && m > 0 ? `${out}.partial.json` : null;
    if (file)
      await writeFileAtomic(
        file,
        JSON.stringify({ partial: true, stoppedBy: signal, requested: n, ...report() }, null, 2) +
          '\n',
      );
    task.interrupt({ signal, certified: certifiedCount });
    sink.log(
      `interrupted by ${signal} after ${m} of ${n} images (${certifiedCount} certified): ` +
        (file ? `partial result in ${file}` : 'nothing written') +
        '; certify has no --resume, run it again for the full result',
    );
    setExitCode(STOPPED_EXIT_CODE);
    return;
  }
  task.finish({ certified: certifiedCount, certifiedAccuracy: certifiedCount / n });
  sink.log(
    `certified ${certifiedCount} of ${n} (${pct(certifiedCount / n)}), clean ${pct(correctCount / n)}, ${round(seconds)} s on ${threads} thread${threads > 1 ? 's' : ''} (${round((seconds / n) * 1000)} ms per image)`,
  );
  sink.print(JSON.stringify(summary));
  if (!out) return;
  const full = report();
  await writeFileAtomic(`${out}.json`, JSON.stringify(full, null, 2) + '\n');
  await writeFileAtomic(`${out}.md`, markdown(full));
  // A partial result of an earlier, stopped run of the same --out is superseded.
  if (existsSync(`${out}.partial.json`)) rmSync(`${out}.partial.json`);
}

/** The model's predictions on the first n rows, a thousand rows at a time. */
function predictions(model: Sequential, images: Float32Array, n: number, size: number): Int32Array {
  const out = new Int32Array(n);
  for (let a = 0; a < n; a += 1000) {
    const b = Math.min(n, a + 1000);
    const x = new Tensor([b - a, ...model.inputShape], images.slice(a * size, b * size));
    const z = noGrad(() => model.forward(x)).data;
    const classes = z.length / (b - a);
    for (let i = a; i < b; i++) out[i] = argmaxRow(z, (i - a) * classes, classes);
  }
  return out;
}

function markdown(r: {
  model: string;
  method: string;
  eps: number;
  n: number;
  cleanAccuracy: number;
  certifiedAccuracy: number;
  meanLogitBoundWidth: number;
  meanWorstMarginLower: number;
  medianCertifiedRadius?: number;
  threads: number;
  seconds: number;
  secondsPerImage: number;
  boundCosts: { layer: number; type: string; intervalMs: number; backSubstitutionMs: number }[];
  command: string;
  date: string;
}): string {
  const radius = r.medianCertifiedRadius !== undefined;
  const costs = r.boundCosts
    .map(
      (c) =>
        `| ${c.layer} | ${c.type} | ${c.intervalMs.toFixed(3)} | ${c.backSubstitutionMs.toFixed(3)} |`,
    )
    .join('\n');
  return `# Certified accuracy of ${r.model}

${r.method.toUpperCase()} over the L∞ ball of radius ${round(r.eps)} clipped to [0, 1], on the first ${r.n} test images.

| clean | certified | mean logit bound width | mean worst margin bound | ${radius ? 'median certified radius | ' : ''}time |
| --- | --- | --- | --- | ${radius ? '--- | ' : ''}--- |
| ${pct(r.cleanAccuracy)} | ${pct(r.certifiedAccuracy)} | ${round(r.meanLogitBoundWidth)} | ${round(r.meanWorstMarginLower)} | ${radius ? `${round(r.medianCertifiedRadius!)} | ` : ''}${round(r.seconds)} s on ${r.threads} thread${r.threads > 1 ? 's' : ''} (${round(r.secondsPerImage * 1000)} ms per image) |

Certified: for every input in the ball, the label's logit provably exceeds every other (bounds sound for the
float32 forward pass). \`${r.command}\`, ${r.date}.

Bound cost per image and layer (thread milliseconds):

| layer | type | interval propagation | back-substitution |
| --- | --- | --- | --- |
${costs}
`;
}

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
const round = (v: number) => Math.round(v * 1e4) / 1e4;
function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b),
    m = s.length / 2;
  return s.length % 2 ? s[Math.floor(m)] : (s[m - 1] + s[m]) / 2;
}

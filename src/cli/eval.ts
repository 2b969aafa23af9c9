// `hashguard eval`: load a model directory (verifying its checksum) and report its clean accuracy, the
// backend that computed it and the throughput. A defended model is scored with its defense applied, exactly as
// `harden` scored it (defended-score.ts, same request seeds), so it reproduces the accuracy model.json records.
import { DefendedModel, type DefenseSpec } from '../defense/index.ts';
import { loadModelDir } from '../io/index.ts';
import { gatherBatch, accuracy, Sequential } from '../nn/index.ts';
import { flags, choice, number, parse, requireString, UsageError } from './args.ts';
import { dataOptions, modelData, modelDataUsage } from './data-flags.ts';
import { BACKEND_NAMES, useBackend } from './backend-flag.ts';
import { scoreDefended } from './defended-score.ts';
import { threadsFlag, withWorkers } from './threads-flag.ts';
import { argmaxRow } from '../tensor/index.ts';
import { standardError } from '../runtime/index.ts';

export const evalUsage = `usage: bun run eval -- --model models/NAME [--limit N] [--backend wasm|reference] [--threads N] [--seed S]
  A defended model (model.json has a defense) runs its defense, random stage included, in this thread, with the
  request seeds harden used: --seed S (default: the recorded provenance.harden.seed) reproduces metrics.testAccuracy.
${modelDataUsage('1: every image')}`;

/** harden's default --seed, for a defended model that does not record one (made with the harden() API). */
const HARDEN_DEFAULT_SEED = 1;

export async function evalCommand(argv: string[]): Promise<void> {
  const v = parse(argv, {
    ...flags('model limit backend threads seed'),
    ...dataOptions,
  });
  const dir = requireString(v, 'model');
  const backend = useBackend(choice(v, 'backend', BACKEND_NAMES, 'wasm'));
  const { manifest, tensors } = await loadModelDir(dir);
  const defense =
    manifest.defense && manifest.defense.stages.length
      ? (manifest.defense as unknown as DefenseSpec)
      : null;
  const model = new Sequential(manifest.input.shape, manifest.layers, tensors);
  // A folder the model never saw is all test; the split it was trained with comes from its provenance.
  const { data, folder } = await modelData(
    v,
    { dir, manifest },
    {
      seed: manifest.provenance.seed,
      allByDefault: true,
      log: (l) => standardError().write(`${l}\n`),
    },
  );
  const dataDetails = folder
    ? {
        data: {
          folder: folder.name,
          sha256: folder.sha256,
          layout: folder.layout,
          split: folder.split,
        },
      }
    : {};
  const limit = number(v, 'limit', data.test.count, {
    integer: true,
    min: 1,
    max: data.test.count,
  });
  const recorded = manifest.metrics.testAccuracy;
  if (defense) {
    if (number(v, 'threads', 1, { integer: true, min: 1, max: 256 }) !== 1) {
      throw new UsageError(
        `--threads: ${dir} is defended; it is scored in one thread, batch by batch with harden's request seeds`,
      );
    }
    const recordedSeed = (manifest.provenance.harden as { seed?: number } | undefined)?.seed;
    const seed = number(v, 'seed', recordedSeed ?? HARDEN_DEFAULT_SEED, {
      integer: true,
      min: 0,
      max: 2 ** 32 - 1,
    });
    const t0 = performance.now();
    const r = scoreDefended(new DefendedModel(model, defense, seed), data.test, seed, limit);
    printScore(manifest.name, recorded, r, t0, {
      defense: defense.stages,
      seed,
      seedFrom:
        v.seed !== undefined
          ? 'flag'
          : recordedSeed !== undefined
            ? 'provenance.harden.seed'
            : 'harden default',
      zeroGradientShare: r.zeroGradientShare,
      backend: backend.name,
      threads: 1,
      ...dataDetails,
    });
    return;
  }
  if (v.seed !== undefined)
    throw new UsageError(`--seed: ${dir} has no defense, so nothing random to seed`);
  const threads = threadsFlag(v, backend);
  const order = Uint32Array.from({ length: limit }, (_, i) => i);
  const t0 = performance.now();
  const r = await withWorkers(threads, async (pool) => {
    if (!pool) return accuracy(model, data.test, order);
    let correct = 0;
    for (let start = 0; start < limit; start += 256) {
      const { x, y } = gatherBatch(data.test, order, start, 256);
      const logits = await pool.forward(model, x);
      const k = logits.shape[1];
      for (let i = 0; i < y.size; i++) {
        if (argmaxRow(logits.data, i * k, k) === y.data[i]) correct++;
      }
    }
    return { accuracy: correct / limit, correct, count: limit };
  });
  printScore(manifest.name, recorded, r, t0, {
    defense: null,
    backend: backend.name,
    threads,
    ...dataDetails,
  });
}

/**
 * eval's one JSON line: the score and the accuracy model.json records, then `details` (the defense and how the
 * score was computed), then the throughput since `t0`.
 */
function printScore(
  model: string,
  recorded: number,
  r: { accuracy: number; correct: number; count: number },
  t0: number,
  details: Record<string, unknown>,
): void {
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    JSON.stringify({
      model,
      testAccuracy: r.accuracy,
      correct: r.correct,
      count: r.count,
      recorded,
      ...details,
      imagesPerSec: Math.round(r.count / seconds),
    }),
  );
}

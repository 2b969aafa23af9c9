// `hashguard harden`: applies gradient-inhibition stages to a trained model (no retraining) and writes the
// defended model, recording the DefenseSpec, clean accuracy before and after, the predictions that changed,
// the share of test inputs with an exactly-zero float32 input gradient, and what it cost.
import { basename } from 'node:path';
import {
  DefendedModel,
  defenseSpecSchema,
  parseGiStage,
  type DefenseSpec,
  type GiStage,
  applyStaticStages,
  calibrateMagnitude,
  type MagnitudeCalibration,
} from '../defense/index.ts';
import { loadModelDir, saveModelDir } from '../io/index.ts';
import { Sequential } from '../nn/index.ts';
import { flags, choice, number, parse, requireString, UsageError } from './args.ts';
import { dataOptions, modelData, modelDataUsage } from './data-flags.ts';
import { BACKEND_NAMES, useBackend } from './backend-flag.ts';
import { scoreDefended } from './defended-score.ts';
import { machineInfo } from './machine.ts';
import { splitValidation } from './adversarial-flags.ts';
import { guardModelDir } from './output-guard.ts';
import { standardError } from '../runtime/index.ts';

export const hardenUsage = `usage: bun run harden -- --model models/NAME --gi STAGE [--gi STAGE ...] --out models/NAME [--seed S] [--backend wasm|reference] [--force]
  STAGE: magnitude:EPS | magnitude:auto[,TOL_PP] | scale:ALPHA | random:MIN,MAX[,NOISE]   (applied in the order given)
  magnitude:auto picks the largest ε of a fixed grid whose clean accuracy on the validation split (training rows held
  out: the last 5,000, per class on class-grouped data) stays within TOL_PP (default 0.3) of the source model's
  (docs/design.md §1.2), and records the sweep; the test split only reports.
  --force: replace an --out that already holds a model (without it, that is refused before any work).
  Clean accuracy is scored with request seeds derived from --seed (default 1); eval repeats it exactly.
${modelDataUsage('1: every image')}`;

export async function hardenCommand(argv: string[]): Promise<void> {
  const v = parse(argv, {
    model: { type: 'string' },
    gi: { type: 'string', multiple: true },
    ...flags('out seed backend', 'force'),
    ...dataOptions,
  });
  const from = requireString(v, 'model');
  const out = requireString(v, 'out');
  const seed = number(v, 'seed', 1, { integer: true, min: 0, max: 2 ** 32 - 1 });
  const backend = useBackend(choice(v, 'backend', BACKEND_NAMES, 'wasm'));
  const texts = (v.gi as unknown as string[] | undefined) ?? [];
  if (!texts.length) throw new UsageError('--gi is required (at least one stage)');
  const auto = /^magnitude:auto(?:,(.*))?$/;
  let parsed: (GiStage | { auto: number })[];
  try {
    parsed = texts.map((t) => {
      const m = auto.exec(t);
      if (!m) return parseGiStage(t);
      const tol = m[1] === undefined ? 0.3 : Number(m[1]);
      if (!(Number.isFinite(tol) && tol >= 0))
        throw new Error(`--gi '${t}': expected magnitude:auto[,TOL_PP] with TOL_PP ≥ 0`);
      return { auto: tol };
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (parsed.filter((p) => 'auto' in p).length > 1)
    throw new UsageError('--gi: magnitude:auto may appear once');
  guardModelDir(out, Boolean(v.force));
  const t0 = performance.now();
  const { manifest, tensors } = await loadModelDir(from);
  if (manifest.defense && manifest.defense.stages.length)
    throw new UsageError(
      `--model ${from} is already defended (${JSON.stringify(manifest.defense.stages)}); harden its source model instead`,
    );
  const { data } = await modelData(
    v,
    { dir: from, manifest },
    {
      seed: manifest.provenance.seed,
      allByDefault: true,
      log: (l) => standardError().write(`${l}\n`),
    },
  );
  if (parsed.some((p) => 'auto' in p) && data.train.count === 0)
    throw new UsageError(
      '--gi magnitude:auto calibrates on training rows: give --val-split F to hold out only part of --data',
    );
  const tLoad = performance.now();
  // magnitude:auto is calibrated on the source model's weights, before any other stage.
  let calibration: MagnitudeCalibration | null = null;
  // Selection looks at held-out training rows, never at the test split it is then scored on.
  const validation = parsed.some((p) => 'auto' in p) ? splitValidation(data.train, null) : null;
  const stages: GiStage[] = parsed.map((p) => {
    if (!('auto' in p)) return p;
    calibration = {
      ...calibrateMagnitude(
        manifest.input.shape,
        manifest.layers,
        tensors,
        validation!.validation!,
        p.auto,
      ),
      rows: validation!.record!,
    };
    return { kind: 'magnitude', eps: calibration.eps };
  });
  const calibrationSeconds = (performance.now() - tLoad) / 1000;

  const plain = new DefendedModel(
    new Sequential(manifest.input.shape, manifest.layers, tensors),
    null,
  );
  const before = scoreDefended(plain, data.test, seed);
  const tEdit0 = performance.now();
  const edited = applyStaticStages(manifest.layers, tensors, stages);
  const spec: DefenseSpec = defenseSpecSchema.parse({
    stages,
    source: {
      name: manifest.name,
      weightsSha256: manifest.weights.sha256,
      hashed: manifest.layers.some((l) => l.type.startsWith('hashed')),
    },
  }) as DefenseSpec;
  const defended = new DefendedModel(
    new Sequential(manifest.input.shape, manifest.layers, edited),
    spec,
    seed,
  );
  const editSeconds = (performance.now() - tEdit0) / 1000;
  const after = scoreDefended(defended, data.test, seed);
  const changed = after.predictions.reduce(
    (n, p, i) => n + (p !== before.predictions[i] ? 1 : 0),
    0,
  );
  const seconds = (performance.now() - t0) / 1000;

  const saved = await saveModelDir(
    out,
    {
      ...manifest,
      name: basename(out),
      defense: spec as unknown as { stages: unknown[] },
      provenance: {
        ...manifest.provenance,
        command: `bun run harden -- ${argv.join(' ')}`,
        hardenedFrom: {
          name: manifest.name,
          weightsSha256: manifest.weights.sha256,
          trainingCommand: manifest.provenance.command,
        },
        harden: {
          seed,
          backend: backend.name,
          editSeconds,
          totalSeconds: seconds,
          loadSeconds: (tLoad - t0) / 1000,
          machine: machineInfo(),
          ...(calibration ? { magnitudeCalibration: calibration, calibrationSeconds } : {}),
        },
      },
      metrics: {
        testAccuracy: after.accuracy,
        testCount: data.test.count,
        testAccuracyBefore: before.accuracy,
        predictionsChanged: changed,
        zeroGradientShareBefore: before.zeroGradientShare,
        zeroGradientShare: after.zeroGradientShare,
      },
    },
    edited,
  );
  console.log(
    JSON.stringify({
      model: saved.name,
      stages,
      testAccuracyBefore: before.accuracy,
      testAccuracy: after.accuracy,
      changePp: Number((100 * (after.accuracy - before.accuracy)).toFixed(2)),
      predictionsChanged: changed,
      zeroGradientShareBefore: before.zeroGradientShare,
      zeroGradientShare: after.zeroGradientShare,
      editSeconds: Number(editSeconds.toFixed(4)),
      totalSeconds: Number(seconds.toFixed(2)),
      ...(calibration ? { magnitudeCalibration: calibration } : {}),
    }),
  );
}

// Hold a model to a bar: its robust accuracy under the per-image worst case of the adaptive attacks plus the
// AutoAttack cascade must reach a bound. Runnable on your own model (defended or not):
//   HASHGUARD_MODEL=models/my-model HASHGUARD_EPS=0.3 HASHGUARD_MIN_ROBUST=0.85 [HASHGUARD_ROBUSTNESS_N=200] bun test test/robustness
// On a GPU host add HASHGUARD_BACKEND=webgpu (or auto): the attacks then run on the WebGPU chain.
// Defaults: the committed adversarially trained MNIST models at ε 0.3 against their targets (docs/design.md
// §1.4), 200 seeded test images. A committed model below its target stays a KNOWN GAP, bound unchanged.
import { beforeAll, describe, expect, test } from 'bun:test';
import { autoAttack } from '../../src/attacks/autoattack.ts';
import { EOT } from '../../src/attacks/eot.ts';
import { PGD } from '../../src/attacks/pgd.ts';
import { APGD } from '../../src/attacks/apgd.ts';
import { WhiteBox, type Target } from '../../src/attacks/target.ts';
import type { Attack } from '../../src/attacks/types.ts';
import { selectBackend, setBackend, type BackendChoice } from '../../src/backend/index.ts';
import { loadDataset } from '../../src/data/node.ts';
import { type DatasetName } from '../../src/data/index.ts';
import { DefendedModel } from '../../src/defense/defended-model.ts';
import { defenseSpecSchema, type DefenseSpec } from '../../src/defense/defense-spec.ts';
import { deriveStream, permutation } from '../../src/hash/rng.ts';
import { loadModelDir } from '../../src/io/model-dir.ts';
import { gatherBatch } from '../../src/nn/batches.ts';
import { Sequential } from '../../src/nn/sequential.ts';

const env = (k: string) =>
  (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env[k];
const n = Number(env('HASHGUARD_ROBUSTNESS_N') ?? 200);

interface Bar {
  dir: string;
  eps: number;
  minRobust: number;
  knownGap?: string;
}
/** The committed adversarially trained models and their targets; a user's model replaces them. */
const DEFAULT_BARS: Bar[] = [
  { dir: 'models/mnist-cnn-at', eps: 0.3, minRobust: 0.89 },
  // 79.2% under the 1,000-image audit's worst case (docs/audit/mnist-cnn.md): 4.8 pp short of its target.
  {
    dir: 'models/mnist-cnn-h8-at',
    eps: 0.3,
    minRobust: 0.84,
    knownGap: 'mnist-cnn-h8-at holds 79.2% on the 1,000-image audit, target 84%',
  },
];
const userModel = env('HASHGUARD_MODEL');
const bars: Bar[] = userModel
  ? [
      {
        dir: userModel,
        eps: Number(env('HASHGUARD_EPS') ?? NaN),
        minRobust: Number(env('HASHGUARD_MIN_ROBUST') ?? NaN),
      },
    ]
  : DEFAULT_BARS;
for (const b of bars) {
  if (!(b.eps > 0 && b.eps <= 1))
    throw new Error(
      `HASHGUARD_EPS must be in (0, 1] when HASHGUARD_MODEL is set, got '${env('HASHGUARD_EPS') ?? ''}'`,
    );
  if (!(b.minRobust >= 0 && b.minRobust <= 1))
    throw new Error(
      `HASHGUARD_MIN_ROBUST must be in [0, 1] when HASHGUARD_MODEL is set, got '${env('HASHGUARD_MIN_ROBUST') ?? ''}'`,
    );
}
if (!(Number.isInteger(n) && n >= 1))
  throw new Error(
    `HASHGUARD_ROBUSTNESS_N must be a positive integer, got '${env('HASHGUARD_ROBUSTNESS_N')}'`,
  );

let backendLine = 'default CPU backend';
beforeAll(async () => {
  const choice = env('HASHGUARD_BACKEND');
  if (!choice) return;
  const sel = await selectBackend(choice as BackendChoice);
  setBackend(sel.backend);
  backendLine = sel.description;
});

/**
 * Per image: still correct after every attack (PGD-CE and PGD-CW 100 × ε/40 with 5 restarts, APGD-DLR, then
 * AutoAttack's cascade; EOT over 20 draws for a randomized model). Images misclassified clean count as broken.
 */
async function worstCase(
  model: DefendedModel,
  eps: number,
  x: import('../../src/tensor/tensor.ts').Tensor,
  y: import('../../src/tensor/tensor.ts').Tensor,
) {
  const target = (): Target =>
    model.randomized ? new EOT(new WhiteBox(model), { n: 20 }) : new WhiteBox(model);
  const attacks: Attack[] = [
    new PGD({
      eps,
      alpha: eps / 40,
      steps: 100,
      restarts: 5,
      loss: 'ce',
      seed: 1,
      earlyStop: !model.randomized,
    }),
    new PGD({
      eps,
      alpha: eps / 40,
      steps: 100,
      restarts: 5,
      loss: 'cw',
      seed: 2,
      earlyStop: !model.randomized,
    }),
    new APGD({ eps, steps: 100, loss: 'dlr', seed: 3 }),
  ];
  const robust = new Array<boolean>(y.size).fill(true);
  const lines: string[] = [];
  for (const a of attacks) {
    const r = await a.run(target(), x, y);
    r.success.forEach((s, i) => {
      if (s || !r.cleanCorrect[i]) robust[i] = false;
    });
    lines.push(`${a.name} ${((100 * r.success.filter(Boolean).length) / y.size).toFixed(1)}%`);
  }
  const aa = await autoAttack(model, x, y, { eps, seed: 4 });
  aa.robust.forEach((r, i) => {
    if (!r) robust[i] = false;
  });
  lines.push(
    `AutoAttack ${aa.components.map((c) => `${c.name} ${c.broken}/${c.attacked}`).join(', ')}`,
  );
  return { robustAccuracy: robust.filter(Boolean).length / y.size, lines };
}

for (const bar of bars) {
  describe(`${bar.dir} at ε ${bar.eps} (${n} images)`, () => {
    const title = `robust accuracy under the adaptive worst case plus AutoAttack is at least ${(100 * bar.minRobust).toFixed(1)}%`;
    const body = async () => {
      const { manifest, tensors } = await loadModelDir(bar.dir);
      const net = new Sequential(manifest.input.shape, manifest.layers, tensors);
      const spec =
        manifest.defense && manifest.defense.stages.length
          ? (defenseSpecSchema.parse(manifest.defense) as DefenseSpec)
          : null;
      const model = new DefendedModel(net, spec, 12345);
      const { test: split } = await loadDataset(manifest.provenance.dataset.name as DatasetName);
      const idx = permutation(deriveStream(1, 0x61756474), split.count).slice(
        0,
        Math.min(n, split.count),
      ); // the audit's subset
      const { x, y } = gatherBatch(split, idx, 0, idx.length);
      const r = await worstCase(model, bar.eps, x, y);
      console.log(
        `robust bar: ${bar.dir} ε ${bar.eps}: ${(100 * r.robustAccuracy).toFixed(1)}% robust on ${idx.length} (${r.lines.join('; ')}), backend ${backendLine}`,
      );
      expect(r.robustAccuracy, r.lines.join('; ')).toBeGreaterThanOrEqual(bar.minRobust);
    };
    if (bar.knownGap) test.failing(`KNOWN GAP (${bar.knownGap}) ${title}`, body, 1_800_000);
    else test(title, body, 1_800_000);
  });
}

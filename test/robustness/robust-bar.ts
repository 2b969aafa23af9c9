// The robust bar's evaluation of one model: its robust accuracy on the audit's seeded subset of the test split
// under the per-image worst case of the adaptive attacks plus the AutoAttack cascade. Runs in the test process
// or, one model each, in a worker (evaluateBarJob, through test/helpers/in-workers.ts) so the bars use every core.
import { autoAttack } from '../../src/attacks/autoattack.ts';
import { EOT } from '../../src/attacks/eot.ts';
import { PGD } from '../../src/attacks/pgd.ts';
import { APGD } from '../../src/attacks/apgd.ts';
import { WhiteBox, type Target } from '../../src/attacks/target.ts';
import type { Attack } from '../../src/attacks/types.ts';
import { loadDataset } from '../../src/data/node.ts';
import { type DatasetName } from '../../src/data/index.ts';
import { DefendedModel } from '../../src/defense/defended-model.ts';
import { defenseSpecSchema, type DefenseSpec } from '../../src/defense/defense-spec.ts';
import { deriveStream, permutation } from '../../src/hash/rng.ts';
import { loadModelDir } from '../../src/io/model-dir.ts';
import { gatherBatch } from '../../src/nn/batches.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';

export interface BarResult {
  robustAccuracy: number;
  /** Images evaluated. */
  count: number;
  /** Each attack's success, then AutoAttack's cascade. */
  lines: string[];
}

/**
 * Per image: still correct after every attack (PGD-CE and PGD-CW 100 × ε/40 with 5 restarts, APGD-DLR, then
 * AutoAttack's cascade; EOT over 20 draws for a randomized model). Images misclassified clean count as broken.
 */
async function worstCase(
  model: DefendedModel,
  eps: number,
  x: Tensor,
  y: Tensor,
): Promise<Omit<BarResult, 'count'>> {
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

/** The model in `dir` (its defense applied) at ε `eps` on the audit's first n seeded test images. */
export async function evaluateBar(dir: string, eps: number, n: number): Promise<BarResult> {
  const { manifest, tensors } = await loadModelDir(dir);
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
  return { ...(await worstCase(model, eps, x, y)), count: idx.length };
}

/** evaluateBar with one structured-cloneable argument, as a worker job. */
export const evaluateBarJob = (j: { dir: string; eps: number; n: number }) =>
  evaluateBar(j.dir, j.eps, j.n);

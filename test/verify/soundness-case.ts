// One soundness case of soundness.test.ts: a committed model's first `want` test images that a bound method
// certifies at ε, attacked by PGD with 100 random restarts (CE, and CW at full size) and APGD-T. Runs in a worker
// of its own (test/helpers/in-workers.ts) so the cases use every core; returns what each attack found.
import { APGDT } from '../../src/attacks/apgd-t.ts';
import { PGD } from '../../src/attacks/pgd.ts';
import type { Attack } from '../../src/attacks/types.ts';
import { WhiteBox } from '../../src/attacks/target.ts';
import { loadDataset } from '../../src/data/node.ts';
import { loadModelDir } from '../../src/io/model-dir.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { certify, type BoundMethod } from '../../src/verify/index.ts';

export interface SoundnessCase {
  dir: string;
  method: BoundMethod;
  eps: number;
  /** Certified images to attack. */
  want: number;
  /** PGD steps per restart (APGD-T runs 5× as many per target); 20 or more adds PGD with the CW loss. */
  steps: number;
}

export interface SoundnessResult {
  /** Certified images found among the test split's first ones (want, unless the split ran out). */
  certified: number;
  attacks: { name: string; allCleanCorrect: boolean; broken: number }[];
}

const pgd = (eps: number, steps: number, loss: 'ce' | 'cw', seed: number) =>
  new PGD({ eps, alpha: (2.5 * eps) / steps, steps, restarts: 100, loss, seed, earlyStop: false });

export async function soundnessCase(c: SoundnessCase): Promise<SoundnessResult> {
  const { manifest, tensors } = await loadModelDir(c.dir);
  const model = new Sequential(manifest.input.shape, manifest.layers, tensors);
  const { test: data } = await loadDataset('mnist');
  const image = (i: number) => data.images.subarray(i * 784, (i + 1) * 784);
  const rows: number[] = [];
  for (let i = 0; i < data.count && rows.length < c.want; i++)
    if (certify(model, image(i), data.labels[i], c.eps, [0, 1], {}, { method: c.method }).certified)
      rows.push(i);
  const result: SoundnessResult = { certified: rows.length, attacks: [] };
  if (rows.length === 0) return result;
  const x = new Tensor(
    [rows.length, 1, 28, 28],
    Float32Array.from(rows.flatMap((i) => [...image(i)])),
  );
  const y = new Tensor(
    [rows.length],
    Float32Array.from(rows, (i) => data.labels[i]),
  );
  const attacks: Attack[] = [
    pgd(c.eps, c.steps, 'ce', 1),
    ...(c.steps >= 20 ? [pgd(c.eps, c.steps, 'cw', 2)] : []),
    new APGDT({ eps: c.eps, steps: 5 * c.steps, seed: 3 }),
  ];
  for (const a of attacks) {
    const r = await a.run(new WhiteBox(model), x, y);
    result.attacks.push({
      name: a.name,
      allCleanCorrect: r.cleanCorrect.every(Boolean),
      broken: r.success.filter(Boolean).length,
    });
  }
  return result;
}

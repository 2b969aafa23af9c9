// Certificates against attacks, on two committed models (dense and hashed, both adversarially trained): on the
// first images that interval bounds certify at ε = 0.01, and that CROWN certifies at ε = 0.03, PGD with 100
// random restarts and APGD-T find no adversarial example. A success would mean a bug in the bounds (or in the
// attacks): certified ≤ attacked.
// CI size: 100 images, 5 steps per restart, APGD-T 25 steps per target. Full size (500 images, 20 steps per
// restart, APGD-T 100, PGD with the CW loss too):
//   HASHGUARD_SOUNDNESS_N=500 HASHGUARD_SOUNDNESS_STEPS=20 bun test test/verify/soundness.test.ts
// (HASHGUARD_SOUNDNESS_METHOD=ibp or crown runs one method only).
import { describe, expect, test } from 'bun:test';
import { APGDT } from '../../src/attacks/apgd-t.ts';
import { PGD } from '../../src/attacks/pgd.ts';
import type { Attack } from '../../src/attacks/types.ts';
import { WhiteBox } from '../../src/attacks/target.ts';
import { loadDataset } from '../../src/data/node.ts';
import { loadModelDir } from '../../src/io/model-dir.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { certify, type BoundMethod } from '../../src/verify/index.ts';

const env = (k: string) =>
  (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env[k];
const WANT = Number(env('HASHGUARD_SOUNDNESS_N') ?? 100),
  STEPS = Number(env('HASHGUARD_SOUNDNESS_STEPS') ?? 5);
const full = STEPS >= 20;

const pgd = (eps: number, loss: 'ce' | 'cw', seed: number) =>
  new PGD({
    eps,
    alpha: (2.5 * eps) / STEPS,
    steps: STEPS,
    restarts: 100,
    loss,
    seed,
    earlyStop: false,
  });

const methods: [BoundMethod, number][] = [
  ['ibp', 0.01],
  ['crown', 0.03],
].filter(([m]) => (env('HASHGUARD_SOUNDNESS_METHOD') ?? m) === m) as [BoundMethod, number][];

for (const dir of ['models/mnist-cnn-at', 'models/mnist-cnn-h8-at']) {
  describe(`${dir}: certified images are not broken by attacks`, () => {
    for (const [method, EPS] of methods)
      test(`${WANT} images certified by ${method} at ε ${EPS}: PGD with 100 restarts (${STEPS} steps each) and APGD-T break none`, async () => {
        const { manifest, tensors } = await loadModelDir(dir);
        const model = new Sequential(manifest.input.shape, manifest.layers, tensors);
        const { test: data } = await loadDataset('mnist');
        const image = (i: number) => data.images.subarray(i * 784, (i + 1) * 784);
        const rows: number[] = [];
        for (let i = 0; i < data.count && rows.length < WANT; i++)
          if (certify(model, image(i), data.labels[i], EPS, [0, 1], {}, { method }).certified)
            rows.push(i);
        expect(rows.length).toBe(WANT);
        const x = new Tensor(
          [WANT, 1, 28, 28],
          Float32Array.from(rows.flatMap((i) => [...image(i)])),
        );
        const y = new Tensor(
          [WANT],
          Float32Array.from(rows, (i) => data.labels[i]),
        );
        const attacks: Attack[] = [
          pgd(EPS, 'ce', 1),
          ...(full ? [pgd(EPS, 'cw', 2)] : []),
          new APGDT({ eps: EPS, steps: 5 * STEPS, seed: 3 }),
        ];
        for (const a of attacks) {
          const r = await a.run(new WhiteBox(model), x, y);
          expect(r.cleanCorrect.every(Boolean)).toBe(true);
          expect(r.success.filter(Boolean).length, a.name).toBe(0);
        }
      }, 1_800_000);
  });
}

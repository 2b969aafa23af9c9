// Certificates against attacks, on two committed models (dense and hashed, both adversarially trained): on the
// first images that interval bounds certify at ε = 0.01, and that CROWN certifies at ε = 0.03, PGD with 100
// random restarts and APGD-T find no adversarial example. A success would mean a bug in the bounds (or in the
// attacks): certified ≤ attacked. The cases run side by side, one worker each (soundness-case.ts).
// CI size: 100 images, 5 steps per restart, APGD-T 25 steps per target. Full size (500 images, 20 steps per
// restart, APGD-T 100, PGD with the CW loss too):
//   HASHGUARD_SOUNDNESS_N=500 HASHGUARD_SOUNDNESS_STEPS=20 bun test test/verify/soundness.test.ts
// (HASHGUARD_SOUNDNESS_METHOD=ibp or crown runs one method only).
import { beforeAll, describe, expect, test } from 'bun:test';
import type { BoundMethod } from '../../src/verify/index.ts';
import { startInWorkers } from '../helpers/in-workers.ts';
import type { SoundnessCase, SoundnessResult } from './soundness-case.ts';

const env = (k: string) =>
  (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env[k];
const WANT = Number(env('HASHGUARD_SOUNDNESS_N') ?? 100),
  STEPS = Number(env('HASHGUARD_SOUNDNESS_STEPS') ?? 5);
if (!(Number.isInteger(WANT) && WANT >= 1 && Number.isInteger(STEPS) && STEPS >= 1))
  throw new Error('HASHGUARD_SOUNDNESS_N and HASHGUARD_SOUNDNESS_STEPS must be positive integers');

// CROWN's cases first: they take the longest, so the lanes finish together.
const methods = (
  [
    ['crown', 0.03],
    ['ibp', 0.01],
  ] as [BoundMethod, number][]
).filter(([m]) => (env('HASHGUARD_SOUNDNESS_METHOD') ?? m) === m);
const DIRS = ['models/mnist-cnn-at', 'models/mnist-cnn-h8-at'];
const cases: SoundnessCase[] = methods.flatMap(([method, eps]) =>
  DIRS.map((dir) => ({ dir, method, eps, want: WANT, steps: STEPS })),
);

let running: Promise<SoundnessResult>[] = [];
beforeAll(() => {
  running = startInWorkers<SoundnessCase, SoundnessResult>(
    new URL('./soundness-case.ts', import.meta.url).href,
    'soundnessCase',
    cases,
    (c) => `${c.dir} ${c.method}`,
  );
});

for (const dir of DIRS) {
  describe(`${dir}: certified images are not broken by attacks`, () => {
    for (const c of cases.filter((c) => c.dir === dir))
      test(`${WANT} images certified by ${c.method} at ε ${c.eps}: PGD with 100 restarts (${STEPS} steps each) and APGD-T break none`, async () => {
        const r = await running[cases.indexOf(c)];
        expect(r.certified).toBe(WANT);
        expect(r.attacks.length).toBe(STEPS >= 20 ? 3 : 2);
        for (const a of r.attacks) {
          expect(a.allCleanCorrect, a.name).toBe(true);
          expect(a.broken, a.name).toBe(0);
        }
      }, 1_800_000);
  });
}

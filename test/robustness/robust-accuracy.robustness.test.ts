// Hold a model to a bar: its robust accuracy under the per-image worst case of the adaptive attacks plus the
// AutoAttack cascade must reach a bound. Runnable on your own model (defended or not):
//   HASHGUARD_MODEL=models/my-model HASHGUARD_EPS=0.3 HASHGUARD_MIN_ROBUST=0.85 [HASHGUARD_ROBUSTNESS_N=200] bun test test/robustness
// On a GPU host add HASHGUARD_BACKEND=webgpu (or auto): the attacks then run on the WebGPU chain.
// Defaults: the committed adversarially trained MNIST models at ε 0.3 against their targets (docs/design.md
// §1.4), 200 seeded test images. A committed model below its target stays a KNOWN GAP, bound unchanged.
// On the CPU the bars run side by side, one worker each (as many at once as the machine has cores).
import { beforeAll, describe, expect, test } from 'bun:test';
import { selectBackend, setBackend, type BackendChoice } from '../../src/backend/index.ts';
import { startInWorkers } from '../helpers/in-workers.ts';
import { evaluateBar, type BarResult } from './robust-bar.ts';

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
  if (!choice) {
    backendLine = 'default CPU backend, one worker per model';
    startAll();
    return;
  }
  const sel = await selectBackend(choice as BackendChoice);
  setBackend(sel.backend);
  backendLine = sel.description;
});

/**
 * On the CPU every bar starts before the first test, each in a worker of its own (in-workers.ts: as many at once
 * as the machine has cores); a test awaits its own. A GPU backend (HASHGUARD_BACKEND) evaluates in this process,
 * in test order.
 */
const running = new Map<Bar, Promise<BarResult>>();
function startAll(): void {
  const module = new URL('./robust-bar.ts', import.meta.url).href;
  const jobs = bars.map((b) => ({ dir: b.dir, eps: b.eps, n }));
  startInWorkers<(typeof jobs)[number], BarResult>(
    module,
    'evaluateBarJob',
    jobs,
    (j) => j.dir,
  ).forEach((p, i) => running.set(bars[i], p));
}

for (const bar of bars) {
  describe(`${bar.dir} at ε ${bar.eps} (${n} images)`, () => {
    const title = `robust accuracy under the adaptive worst case plus AutoAttack is at least ${(100 * bar.minRobust).toFixed(1)}%`;
    const body = async () => {
      const r = await (running.get(bar) ?? evaluateBar(bar.dir, bar.eps, n));
      console.log(
        `robust bar: ${bar.dir} ε ${bar.eps}: ${(100 * r.robustAccuracy).toFixed(1)}% robust on ${r.count} (${r.lines.join('; ')}), backend ${backendLine}`,
      );
      expect(r.robustAccuracy, r.lines.join('; ')).toBeGreaterThanOrEqual(bar.minRobust);
    };
    if (bar.knownGap) test.failing(`KNOWN GAP (${bar.knownGap}) ${title}`, body, 1_800_000);
    else test(title, body, 1_800_000);
  });
}

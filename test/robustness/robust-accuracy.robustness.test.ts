// Hold a model to a bar: its robust accuracy under the per-image worst case of the adaptive attacks plus the
// AutoAttack cascade must reach a bound. Runnable on your own model (defended or not):
//   HASHGUARD_MODEL=models/my-model HASHGUARD_EPS=0.3 HASHGUARD_MIN_ROBUST=0.85 [HASHGUARD_ROBUSTNESS_N=200] bun test test/robustness
// On a GPU host add HASHGUARD_BACKEND=webgpu (or auto): the attacks then run on the WebGPU chain.
// Defaults: the committed adversarially trained MNIST models at ε 0.3 against their targets (docs/design.md
// §1.4), 200 seeded test images. A committed model below its target stays a KNOWN GAP, bound unchanged.
// On the CPU the bars run side by side, one worker each (as many at once as the machine has cores).
import { beforeAll, describe, expect, test } from 'bun:test';
import { selectBackend, setBackend, type BackendChoice } from '../../src/backend/index.ts';
import { machineThreads } from '../../src/parallel/index.ts';
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

/** One bar in a worker of its own (robust-bar-worker.ts). */
function inWorker(bar: Bar): Promise<BarResult> {
  const w = new Worker(new URL('./robust-bar-worker.ts', import.meta.url).href);
  return new Promise<BarResult>((resolve, reject) => {
    w.onmessage = (e: MessageEvent) => {
      const m = e.data as { result?: BarResult; error?: string };
      if (m.result) resolve(m.result);
      else reject(new Error(`robust bar worker (${bar.dir}): ${m.error}`));
    };
    w.onerror = (e) => reject(new Error(`robust bar worker (${bar.dir}) failed: ${e.message}`));
    w.postMessage({ dir: bar.dir, eps: bar.eps, n });
  }).finally(() => w.terminate());
}

/**
 * On the CPU every bar starts before the first test, at most machineThreads() at a time, each in its own
 * worker; a test awaits its own. A GPU backend (HASHGUARD_BACKEND) evaluates in this process, in test order.
 */
const running = new Map<Bar, Promise<BarResult>>();
function startAll(): void {
  const start = new Map<Bar, () => void>();
  for (const bar of bars) {
    const p = new Promise<void>((r) => start.set(bar, r)).then(() => inWorker(bar));
    p.catch(() => {}); // reported by the bar's own test
    running.set(bar, p);
  }
  const queue = [...bars];
  const lane = async () => {
    for (let bar = queue.shift(); bar; bar = queue.shift()) {
      start.get(bar)!();
      await running.get(bar)!.catch(() => {});
    }
  };
  for (let i = 0; i < Math.min(machineThreads(), bars.length); i++) void lane();
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

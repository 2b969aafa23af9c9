// One robust bar in a worker of its own (robust-accuracy.robustness.test.ts runs the default bars side by side):
// receives { dir, eps, n }, answers { result } or { error }.
import { evaluateBar } from './robust-bar.ts';

const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent) => void) | null;
  postMessage(m: unknown): void;
};
scope.onmessage = async (e: MessageEvent) => {
  const { dir, eps, n } = e.data as { dir: string; eps: number; n: number };
  try {
    scope.postMessage({ result: await evaluateBar(dir, eps, n) });
  } catch (err) {
    scope.postMessage({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
};

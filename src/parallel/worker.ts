// Worker entry: installs the fast CPU backend, then answers pool requests one at a time (see protocol.ts).
// Web Worker API only (self.onmessage / postMessage), so Bun, Deno and browsers run it unchanged.
import { setBackend, createWasmBackend } from '../backend/index.ts';
import type { Reply, Request } from './protocol.ts';
import { runTask } from './run-task.ts';

declare const self: {
  onmessage: ((e: MessageEvent<Request>) => void) | null;
  postMessage(m: Reply, transfer?: Transferable[]): void;
};

const fast = createWasmBackend();
if (fast) setBackend(fast);

self.onmessage = (e: MessageEvent<Request>) => {
  const { id, task } = e.data;
  try {
    const result = runTask(task);
    const transfer: Transferable[] = [];
    if (result.kind === 'forward') transfer.push(result.logits.buffer);
    if (result.kind === 'inputGrad') transfer.push(result.grad.buffer, result.logits.buffer);
    if (result.kind === 'lossGrad' || result.kind === 'advLossGrad')
      for (const g of Object.values(result.grads)) transfer.push(g.buffer);
    self.postMessage(
      { id, result },
      transfer.filter((b, i, all) => all.indexOf(b) === i) as Transferable[],
    );
  } catch (err) {
    self.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
};

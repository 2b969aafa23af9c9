// Worker entry: installs the fast CPU backend, then answers pool requests one at a time (see protocol.ts).
// Its scope is the Web Worker's (Bun, Deno, browsers) or Node's parent port (src/runtime/worker.ts).
import { setBackend, createWasmBackend } from '../backend/index.ts';
import { workerScope } from '../runtime/index.ts';
import type { Reply, Request } from './protocol.ts';
import { runTask } from './run-task.ts';

const self = workerScope();

const fast = createWasmBackend();
if (fast) setBackend(fast);

self.onmessage = (e) => {
  const { id, task } = e.data as Request;
  try {
    const result = runTask(task, (early) => self.postMessage({ id, early } satisfies Reply));
    const transfer: Transferable[] = [];
    if (result.kind === 'forward') transfer.push(result.logits.buffer);
    if (result.kind === 'inputGrad') transfer.push(result.grad.buffer, result.logits.buffer);
    if (result.kind === 'lossGrad' || result.kind === 'advLossGrad')
      for (const g of Object.values(result.grads)) transfer.push(g.buffer);
    self.postMessage(
      { id, result } satisfies Reply,
      transfer.filter((b, i, all) => all.indexOf(b) === i) as Transferable[],
    );
  } catch (err) {
    self.postMessage({
      id,
      error: err instanceof Error ? err.message : String(err),
    } satisfies Reply);
  }
};

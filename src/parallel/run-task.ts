// What a worker does with one task: the model cache and the forward / gradient computations. Separate from
// the worker's message loop so the same code runs in-process (pool size 0) and is testable directly.
import { noGrad, ops } from '../autodiff/index.ts';
import { adversarialLossGradients, crossEntropyLoss, Sequential } from '../nn/index.ts';
import { Tensor } from '../tensor/index.ts';
import { runCertify } from './certify-task.ts';
import { runDefended } from './defended-task.ts';
import type { ModelPayload, Task, TaskResult } from './protocol.ts';

const models = new Map<string, Sequential>();

function toParams(p: ModelPayload['params']): Map<string, Tensor> {
  return new Map(
    Object.entries(p).map(([name, { shape, data }]) => [name, new Tensor(shape, data)]),
  );
}

function modelFor(id: string, params: ModelPayload['params'] | null = null): Sequential {
  const m = models.get(id);
  if (!m) throw new Error(`worker: model '${id}' is not loaded`);
  if (params) m.params = toParams(params);
  return m;
}

function correctCount(logits: Tensor, y: Tensor): number {
  const pred = ops.argmax(logits, 1);
  let c = 0;
  for (let i = 0; i < y.size; i++) if (pred.data[i] === y.data[i]) c++;
  return c;
}

/** An empty shard (batch smaller than the pool) only delivers parameters; its result carries nothing. */
function emptyShard(
  task: Extract<Task, { kind: 'forward' | 'lossGrad' | 'inputGrad' | 'advLossGrad' }>,
): TaskResult {
  modelFor(task.model, task.params);
  const none = new Float32Array(0);
  if (task.kind === 'forward') return { kind: 'forward', logits: none };
  if (task.kind === 'lossGrad' || task.kind === 'advLossGrad')
    return { kind: task.kind, loss: 0, correct: 0, grads: {} };
  return { kind: 'inputGrad', loss: 0, grad: none, logits: new Float32Array(0) };
}

/** `early`: where a defendedForward task hands its fingerprints before the model runs (see runDefended). */
export function runTask(task: Task, early?: (fingerprints: Uint32Array[]) => void): TaskResult {
  if (
    (task.kind === 'forward' ||
      task.kind === 'lossGrad' ||
      task.kind === 'inputGrad' ||
      task.kind === 'advLossGrad') &&
    task.n === 0
  )
    return emptyShard(task);
  switch (task.kind) {
    case 'load':
      models.set(
        task.model,
        new Sequential(task.payload.inputShape, task.payload.layers, toParams(task.payload.params)),
      );
      return { kind: 'ok' };
    case 'params': {
      const m = modelFor(task.model);
      m.params = toParams(task.params);
      return { kind: 'ok' };
    }
    case 'unload':
      models.delete(task.model);
      return { kind: 'ok' };
    case 'forward': {
      const m = modelFor(task.model, task.params);
      const logits = noGrad(() => m.forward(new Tensor([task.n, ...m.inputShape], task.x)));
      return { kind: 'forward', logits: logits.data as Float32Array };
    }
    case 'lossGrad': {
      // Mean cross-entropy over the shard and its gradient for every parameter, in parameterNames() order.
      const m = modelFor(task.model, task.params);
      const x = new Tensor([task.n, ...m.inputShape], task.x),
        y = new Tensor([task.n], task.y);
      const r = m.lossGradients(x, (logits) => crossEntropyLoss(logits, y), { params: true });
      return {
        kind: 'lossGrad',
        loss: r.loss,
        correct: correctCount(r.logits, y),
        grads: Object.fromEntries([...r.grads!].map(([n, g]) => [n, g.data as Float32Array])),
      };
    }
    case 'advLossGrad': {
      const m = modelFor(task.model, task.params);
      const x = new Tensor([task.n, ...m.inputShape], task.x),
        y = new Tensor([task.n], task.y);
      const r = adversarialLossGradients(m, x, y, task.spec, task.eps, task.key);
      return {
        kind: 'advLossGrad',
        loss: r.loss,
        correct: r.correct,
        grads: Object.fromEntries([...r.grads].map(([n, g]) => [n, g.data as Float32Array])),
      };
    }
    case 'inputGrad': {
      // Gradient of the summed cross-entropy with respect to the input (each example's own gradient).
      const m = modelFor(task.model, task.params);
      const x = new Tensor([task.n, ...m.inputShape], task.x),
        y = new Tensor([task.n], task.y);
      const r = m.lossGradients(x, (logits) => ops.sum(ops.crossEntropy(logits, y)), {
        input: true,
      });
      return {
        kind: 'inputGrad',
        loss: r.loss,
        grad: r.dx!.data as Float32Array,
        logits: r.logits.data as Float32Array,
      };
    }
    case 'defendedForward':
      return runDefended(
        modelFor(task.model),
        task.input,
        task.random,
        task.early ? early : undefined,
      );
    case 'certify':
      return runCertify(modelFor(task.model), task.input);
  }
}

// Messages between the WorkerPool (main thread) and its workers. Plain data only (structured clone): layer
// specs, parameter arrays, input shards.
import type { AdversarialSpec, BatchKey, LayerSpec } from '../nn/index.ts';
import type { CertifyResult, CertifyTask } from './certify-task.ts';
import type { DefendedResult, DefendedTask } from './defended-task.ts';

/** A model as it travels to a worker: its architecture and every parameter's shape and values. */
export interface ModelPayload {
  inputShape: readonly number[];
  layers: readonly LayerSpec[];
  params: Record<string, { shape: readonly number[]; data: Float32Array }>;
}

/** Rows of a batch for one worker; batch tasks may carry the model's new parameters (installed first). */
interface Shard {
  model: string;
  x: Float32Array;
  n: number;
  params: ModelPayload['params'] | null;
}

/** A shard with its labels. */
interface LabelledShard extends Shard {
  y: Float32Array;
}

export type Task =
  | { kind: 'load'; model: string; payload: ModelPayload }
  | { kind: 'params'; model: string; params: ModelPayload['params'] }
  | ({ kind: 'forward' } & Shard)
  | ({ kind: 'lossGrad' } & LabelledShard)
  | ({ kind: 'inputGrad' } & LabelledShard)
  // An adversarial training step on a shard: the worker makes the shard's adversarial examples, then its gradients.
  | ({ kind: 'advLossGrad'; spec: AdversarialSpec; eps: number; key: BatchKey } & LabelledShard)
  | { kind: 'unload'; model: string }
  | DefendedTask
  | CertifyTask;

export type TaskResult =
  | { kind: 'ok' }
  | { kind: 'forward'; logits: Float32Array }
  | { kind: 'lossGrad'; loss: number; correct: number; grads: Record<string, Float32Array> }
  | { kind: 'advLossGrad'; loss: number; correct: number; grads: Record<string, Float32Array> }
  | { kind: 'inputGrad'; loss: number; grad: Float32Array; logits: Float32Array }
  | DefendedResult
  | CertifyResult;

export interface Request {
  id: number;
  task: Task;
}
/**
 * A task's answer or failure; before it, a defendedForward task that asked for fingerprints sends them alone
 * (`early`) as soon as its input is preprocessed, while the model still runs.
 */
export type Reply =
  | { id: number; result: TaskResult }
  | { id: number; error: string }
  | { id: number; early: Uint32Array[] };

// The demo page's two correspondents: the server's public API (metadata and Open Inference Protocol v2 infer,
// the same calls any client makes) and the page's worker (worker.ts), called as promises matched by id.
import type { WorkerAnswers, WorkerReply, WorkerRequest } from './protocol.ts';

/** A non-2xx answer of the server: its status, its {"error"} message and its code where it gives one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null,
  ) {
    super(message);
  }
}

async function call(url: string, init?: RequestInit): Promise<any> {
  const res = await fetch(url, init);
  const body = await res.json().catch(() => null);
  if (!res.ok)
    throw new ApiError(res.status, body?.error ?? `HTTP ${res.status}`, body?.code ?? null);
  return body;
}

/** What the page needs of GET /v2/models/{m}. */
export interface ModelInfo {
  name: string;
  shape: [number, number, number];
  background: 'dark' | 'light' | 'any';
  classes: string[];
  outputs: string[];
  defense: { stages: { kind: string; [k: string]: unknown }[] } | null;
  randomized: boolean;
  backend: string | null;
  certificates: { methods: string[]; budgetMs: number } | null;
}

const modelPath = (name: string) => `/v2/models/${encodeURIComponent(name)}`;

export async function modelInfo(name: string): Promise<ModelInfo> {
  const m = await call(modelPath(name));
  const input = m.inputs[0];
  return {
    name: m.name,
    shape: input.shape.slice(1),
    background: input.parameters?.background ?? 'any',
    classes: m.classes,
    outputs: m.outputs.map((o: { name: string }) => o.name),
    defense: m.defense,
    randomized: m.randomized,
    backend: m.backend,
    certificates: m.certificates,
  };
}

/** The server's answer for one image: label, the scores it reveals, and the certified radius where asked. */
export interface Answer {
  label: number;
  probabilities: number[] | null;
  logits: number[] | null;
  /** Certified L∞ radius (null where the budget ran out), undefined where not offered. */
  radius?: number | null;
  notCertifiedAt?: number | null;
}

/** POST /v2/models/{m}/infer for one image (FP32), asking for certificates where the model offers them. */
export async function infer(m: ModelInfo, x: Float32Array): Promise<Answer> {
  const body = {
    inputs: [{ name: 'input', shape: [1, ...m.shape], datatype: 'FP32', data: Array.from(x) }],
    ...(m.certificates ? { parameters: { certify: true } } : {}),
  };
  const r = await call(`${modelPath(m.name)}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const out = (name: string) =>
    r.outputs.find((o: { name: string }) => o.name === name)?.data ?? null;
  return {
    label: out('labels')[0],
    probabilities: out('probabilities'),
    logits: out('logits'),
    ...(m.certificates
      ? {
          radius: r.parameters?.certified_radius?.[0] ?? null,
          notCertifiedAt: r.parameters?.certificate?.not_certified_at?.[0] ?? null,
        }
      : {}),
  };
}

type Request<K> = Extract<WorkerRequest, { type: K }>;

/** The page's worker as promises: one call per request, answered in order. */
export class WorkerClient {
  private readonly worker: Worker;
  private next = 0;
  private readonly pending = new Map<number, { resolve(v: any): void; reject(e: Error): void }>();

  constructor(url: string) {
    this.worker = new Worker(url, { type: 'module' });
    this.worker.onmessage = (e: MessageEvent<WorkerReply>) => {
      const p = this.pending.get(e.data.id);
      if (!p) return;
      this.pending.delete(e.data.id);
      if (e.data.ok) p.resolve(e.data.result);
      else p.reject(new Error(e.data.error));
    };
    this.worker.onerror = (e) => {
      e.preventDefault();
      for (const p of this.pending.values()) p.reject(new Error(e.message || 'the worker failed'));
      this.pending.clear();
    };
  }

  call<K extends WorkerRequest['type']>(
    request: Request<K>,
    transfer: Transferable[] = [],
  ): Promise<WorkerAnswers[K]> {
    const id = ++this.next;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, ...request }, transfer);
    });
  }
}

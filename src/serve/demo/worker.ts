// The demo page's Web Worker: a local copy of the served model (its files fetched from the server) on the
// browser-safe core, WebAssembly or WebGPU chosen as the core's selectBackend does; white-box PGD on that copy,
// and Square (scores) or HopSkipJump (labels only) against the server's API through the core's HTTP oracle.
import {
  DEFAULT_IMAGE_LIMITS,
  HopSkipJump,
  HttpOracle,
  imageToInput,
  modelFromBytes,
  PGD,
  selectBackend,
  ServerBudgetExceeded,
  ServerDetectedAttack,
  setBackend,
  Square,
  Tensor,
  WhiteBox,
  type HardenedModel,
  type LoadedModel,
} from '../../index.ts';
import type { WorkerAnswers, WorkerReply, WorkerRequest } from './protocol.ts';

type Model = LoadedModel | HardenedModel;
let model: Model | null = null;
let runs = 0;

const scope = self as unknown as {
  onmessage: ((e: { data: { id: number } & WorkerRequest }) => void) | null;
  postMessage(message: WorkerReply, options?: { transfer?: Transferable[] }): void;
  location: { origin: string };
};

const modelUrl = (name: string, file: string) =>
  `${scope.location.origin}/v2/models/${encodeURIComponent(name)}/${file}`;

async function bytesOf(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url} → ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** The loaded model, or an error naming what the page must do first. */
function loaded(): Model {
  if (!model) throw new Error('no local copy of the model is loaded');
  return model;
}

const argmax = (v: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
};

/** The white-box surface attacks differentiate: the defended model where there is one. */
const differentiable = (m: Model) => ('defended' in m ? m.defended : m.network);

const handlers: { [K in WorkerRequest['type']]: (r: any) => Promise<WorkerAnswers[K]> } = {
  async load(r: Extract<WorkerRequest, { type: 'load' }>) {
    const [json, weights] = await Promise.all([
      bytesOf(modelUrl(r.model, 'model.json')),
      bytesOf(modelUrl(r.model, 'weights.safetensors')),
    ]);
    const selection = await selectBackend(r.backend);
    setBackend(selection.backend);
    model = await modelFromBytes(json, weights, r.model);
    return {
      backend: selection.description,
      kind: selection.kind,
      randomized: 'defended' in model && model.defended.randomized,
    };
  },

  async image(r: Extract<WorkerRequest, { type: 'image' }>) {
    // The server's own conversion (:classify): size limits, polarity, channels, resize.
    return imageToInput(new Uint8Array(r.bytes), r.shape, DEFAULT_IMAGE_LIMITS, r.background);
  },

  async predict(r: Extract<WorkerRequest, { type: 'predict' }>) {
    const m = loaded();
    const x = new Tensor([1, ...m.network.inputShape], r.x);
    const network = Array.from((await m.network.forwardAsync(x)).data);
    // Request seed 0: the same draw of a random stage on every backend, so their logits compare.
    const logits =
      'defended' in m ? Array.from((await m.defended.forwardAsync(x, 0)).data) : network;
    return { label: argmax(logits), logits, networkLogits: network };
  },

  async pgd(r: Extract<WorkerRequest, { type: 'pgd' }>) {
    const m = loaded();
    const x = new Tensor([1, ...m.network.inputShape], r.x);
    const target = new WhiteBox(differentiable(m));
    // Madry et al.'s step: 2.5·ε/steps, so the walk can cross the ball and come back.
    const attack = new PGD({
      eps: r.eps,
      steps: r.steps,
      alpha: (2.5 * r.eps) / Math.max(1, r.steps),
      loss: r.loss,
      seed: ++runs,
    });
    const res = await attack.run(target, x, new Tensor([1], Float32Array.of(r.label)));
    let linf = 0;
    for (let i = 0; i < r.x.length; i++) linf = Math.max(linf, Math.abs(res.xAdv.data[i] - r.x[i]));
    return {
      attack: attack.name,
      xAdv: Float32Array.from(res.xAdv.data),
      linf,
      success: res.success[0],
      before: r.label,
      after: res.predictions[0],
      queries: target.queries,
    };
  },

  async remote(r: Extract<WorkerRequest, { type: 'remote' }>) {
    const oracle = await HttpOracle.connect({ url: scope.location.origin, model: r.model });
    const x = new Tensor([1, ...oracle.info.inputShape], r.x);
    const y = new Tensor([1], Float32Array.of(r.label));
    // Square needs scores; a labels-only deployment leaves the decision-based attack.
    const attack =
      oracle.kind === 'scores'
        ? new Square({ eps: r.eps, maxQueries: r.queries, seed: ++runs })
        : new HopSkipJump({ norm: 'linf', eps: r.eps, maxQueries: r.queries, seed: ++runs });
    const name = attack instanceof Square ? 'Square' : 'HopSkipJump (L∞)';
    try {
      const res = await attack.run(oracle, x, y);
      const flipped = res.success[0];
      return {
        attack: name,
        outcome: flipped ? 'flipped' : 'held',
        queries: oracle.queries,
        message: flipped
          ? `The server now answers ${res.predictions[0]} instead of ${r.label}.`
          : `The server still answers ${r.label}.`,
        xAdv: Float32Array.from(res.xAdv.data),
        prediction: res.predictions[0],
      };
    } catch (e) {
      if (!(e instanceof ServerDetectedAttack) && !(e instanceof ServerBudgetExceeded)) throw e;
      return {
        attack: name,
        outcome: e instanceof ServerDetectedAttack ? 'blocked' : 'budget',
        queries: oracle.queries,
        message:
          e.retryAfterS !== null
            ? `The server refuses this client for ${e.retryAfterS} s (Retry-After).`
            : e.message,
        xAdv: null,
        prediction: null,
      };
    }
  },
};

// One request at a time: the active backend is one global, and attacks take seconds.
let queue: Promise<void> = Promise.resolve();
scope.onmessage = (e) => {
  const { id, ...request } = e.data;
  queue = queue.then(async () => {
    try {
      const result = await handlers[request.type](request);
      const transfer = Object.values(result).filter(
        (v): v is Float32Array => v instanceof Float32Array,
      );
      scope.postMessage({ id, ok: true, result }, { transfer: transfer.map((t) => t.buffer) });
    } catch (err) {
      scope.postMessage({ id, ok: false, error: (err as Error)?.message ?? String(err) });
    }
  });
};

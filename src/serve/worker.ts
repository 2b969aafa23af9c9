// Cloudflare Workers entry (module syntax), bundled by `bun run build:worker` into dist/worker/ beside the modules
// it imports: the WebAssembly kernels compiled by the platform, the default model's manifest and weights. Serves
// createApp on the in-process executor and CPU kernels; budgets in a Durable Object when BUDGETS is bound.
import { useKernelsModule } from '../index.ts';
import { decodeModel, modelFromFile } from '../nn/index.ts';
import kernels from './kernels.wasm';
import manifest from './model.json';
import weights from './weights.safetensors';
import { createApp, type HashguardApp } from './app.ts';
import { DurableObject } from 'cloudflare:workers';
import {
  BudgetCounter,
  DurableObjectBudgetStore,
  type DurableObjectNamespaceLike,
  type DurableObjectStateLike,
} from './budget/index.ts';
import type { DetectMode } from './detect/index.ts';
import { inProcessExecutor } from './executor.ts';
import type { ServeOptions } from './options.ts';

/** The budget Durable Object class to bind (class_name = "BudgetDurableObject"); budget/durable-object.ts does the work. */
export class BudgetDurableObject extends DurableObject {
  private readonly counter = new BudgetCounter(this.ctx as DurableObjectStateLike);
  fetch(request: Request): Promise<Response> {
    return this.counter.fetch(request);
  }
  alarm(): Promise<void> {
    return this.counter.alarm();
  }
}

// Workers refuse to compile WebAssembly from bytes at run time: install the compiled module before any op runs.
useKernelsModule(kernels);

/** The Worker's bindings: wrangler.toml [vars] (strings) and the Durable Object namespace. */
export interface WorkerEnv {
  /** Budget counters shared by every isolate; without it each isolate counts in its own memory. */
  BUDGETS?: DurableObjectNamespaceLike;
  /** Issued bearer keys, comma-separated (each the key or sha256:<hex>), as HASHGUARD_API_KEYS for the server. */
  HASHGUARD_API_KEYS?: string;
  /** Images per client per window; '0' turns budgets off (default 10,000). */
  HASHGUARD_BUDGET_LIMIT?: string;
  /** The budget window in ms (default one hour). */
  HASHGUARD_BUDGET_WINDOW_MS?: string;
  /** Query-attack detection: off | log | block (default block; state per isolate). */
  HASHGUARD_DETECT?: string;
}

/** A non-negative integer variable, or undefined when unset; anything else fails the Worker loudly. */
function intVar(env: WorkerEnv, name: keyof WorkerEnv): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string' || !/^\d+$/.test(v))
    throw new RangeError(`${name}: expected an integer ≥ 0`);
  return Number(v);
}

/** createApp's options from the bindings (the model is loaded once per isolate, by the caller). */
export function workerOptions(
  env: WorkerEnv,
  models: ServeOptions['models'],
): ServeOptions & { budgets: NonNullable<ServeOptions['budgets']> } {
  const limit = intVar(env, 'HASHGUARD_BUDGET_LIMIT');
  const windowMs = intVar(env, 'HASHGUARD_BUDGET_WINDOW_MS');
  const keys = (env.HASHGUARD_API_KEYS ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  const mode = (env.HASHGUARD_DETECT || undefined) as DetectMode | undefined;
  return {
    models,
    // No worker threads in Workers: inference runs in the request's isolate, one request at a time.
    executor: inProcessExecutor(1),
    budgets:
      limit === 0
        ? false
        : {
            ...(limit !== undefined ? { limit } : {}),
            ...(windowMs !== undefined ? { windowMs } : {}),
            ...(keys.length ? { keys } : {}),
            ...(env.BUDGETS ? { store: new DurableObjectBudgetStore(env.BUDGETS) } : {}),
          },
    // Detection state stays in this isolate's memory (no shared store on the platform yet).
    detect: mode ? { mode } : {},
    // No files here: neither the demo page's scripts nor audit reports are in the bundle.
    demo: false,
  };
}

let started: Promise<HashguardApp> | null = null;

/** The app of this isolate, built on its first request (bindings arrive with requests, not at load). */
async function app(env: WorkerEnv): Promise<HashguardApp> {
  const text = JSON.stringify(manifest);
  const { manifest: parsed, tensors } = await decodeModel(text, new Uint8Array(weights), '');
  const model = modelFromFile(parsed, tensors);
  const a = createApp(workerOptions(env, { [parsed.name]: { model } }));
  await a.ready; // the warm-up forward pass, so the first request is not answered 503 "loading"
  return a;
}

export default {
  async fetch(request: Request, env: WorkerEnv): Promise<Response> {
    // A failed start is retried by the next request rather than cached for the isolate's life.
    started ??= app(env).catch((e) => {
      started = null;
      throw e;
    });
    let served: HashguardApp;
    try {
      served = await started;
    } catch (e) {
      console.error(`hashguard worker: start failed: ${(e as Error).message}`);
      return Response.json({ error: 'server starting failed' }, { status: 503 });
    }
    // Cloudflare's edge sets CF-Connecting-IP to the client's address (a client cannot choose it there).
    const clientAddress = request.headers.get('cf-connecting-ip') ?? undefined;
    return served.fetch(request, { clientAddress });
  },
};

// What createApp accepts (models, limits, budgets, secret, executor) and the defaults it fills in. Plain data
// and interfaces only, so entry files, tests and the OpenAPI document share one vocabulary.
import type { LoadedModel } from '../nn/index.ts';
import { normalizeAddress } from './budget/address.ts';
import type { BudgetStore } from './budget/store.ts';
import type { DetectSettings } from './detect/settings.ts';
import type { DetectStore } from './detect/store.ts';
import type { DemoScripts } from './demo/bundle.ts';
import type { InferenceExecutor } from './executor.ts';

/** Which scores a deployment reveals besides labels. Labels only by default: scores help query attacks. */
export type ScoresMode = 'none' | 'probabilities' | 'logits';
export const SCORES_MODES: readonly ScoresMode[] = ['none', 'probabilities', 'logits'];

/** One served model: a model directory, or an already loaded model (tests, embedding). */
export type ModelSource = ({ dir: string } | { model: LoadedModel }) & { scores?: ScoresMode };

export interface Limits {
  /** Largest JSON body, in bytes (default 1 MiB). */
  maxBodyBytes: number;
  /** Largest encoded image for :classify, in bytes (default 8 MiB). */
  maxImageBytes: number;
  /** Largest decoded image for :classify, in pixels (default 4,194,304 = 2048²), checked from the header. */
  maxImagePixels: number;
  /** Largest width or height of an image for :classify (default 8192), checked from the header. */
  maxImageSide: number;
  /** Most images in one infer request (default 64). */
  maxBatch: number;
  /** Time from admission to answer before a request is answered 503 (default 2000 ms). */
  deadlineMs: number;
  /** Requests allowed to wait for a free worker; more are shed with 503 (default 64). */
  maxQueue: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxBodyBytes: 1 << 20,
  maxImageBytes: 8 << 20,
  maxImagePixels: 4_194_304,
  maxImageSide: 8192,
  maxBatch: 64,
  deadlineMs: 2000,
  maxQueue: 64,
};

export interface Budgets {
  /** Images a client may submit per window (default 10,000). */
  limit: number;
  /** Fixed window length in ms, starting at the client's first query (default one hour). */
  windowMs: number;
  /** Where counts live (default: this process's memory; a Redis store shares them across instances). */
  store?: BudgetStore;
  /**
   * Issued API keys, each the key itself or `sha256:<64 hex>` (held only as digests, matched in constant
   * time). A request whose bearer token is one of them is counted against that key; any other Authorization
   * header is refused with 401. Without keys, Authorization is ignored and the client address counts
   * (IPv6 by /64), so inventing tokens never opens a fresh budget.
   */
  keys?: readonly string[];
  /**
   * Peer addresses of reverse proxies in front of the server. Requests from them are counted against the
   * client address in X-Forwarded-For (see clientAddress); from anyone else that header is ignored.
   */
  trustedProxies?: readonly string[];
  /** Clients the in-memory store tracks at once, least recently charged dropped first (default 100,000). */
  maxClients?: number;
}

export const DEFAULT_BUDGETS: Omit<Budgets, 'store'> = { limit: 10_000, windowMs: 3_600_000 };

/** The demo page at / (src/serve/demo): where its scripts come from, and whether model files are published. */
export interface DemoOptions {
  /**
   * Builds the page's scripts; called once, on the first request, and kept in memory. The Bun entry passes one
   * on Bun.build. Without it, or when it fails, the prebuilt files in `dir` are served.
   */
  build?: () => Promise<DemoScripts>;
  /** Prebuilt scripts (page.js, worker.js), as `npm run build:package` writes them (default 'dist/demo'). */
  dir?: string;
  /**
   * Publish each served model's files (GET /v2/models/{m}/model.json and weights.safetensors), from which the
   * page's worker makes the local copy its PGD attacks (default true). Anyone who may query the model may then
   * download it: white-box access. Models trained with secret hash seeds are never published.
   */
  modelFiles?: boolean;
}

export interface ServeOptions {
  models: Record<string, ModelSource>;
  limits?: Partial<Limits>;
  /** Per-client query budgets; `false` turns them off. */
  budgets?: Partial<Budgets> | false;
  /**
   * Server secret for request seeds of random GI (any length ≥ 1 of u32 words). Default: 4 words from
   * crypto.getRandomValues, fresh per process, so seeds cannot be predicted from outside.
   */
  secret?: Uint32Array;
  /** Runs inference. Default: a worker pool sized to the machine (the request thread never computes). */
  executor?: InferenceExecutor;
  /** Worker count of the default executor (default: logical cores). */
  workers?: number;
  /** Directory of audit reports for /robustness (default 'docs/audit', relative to the working directory). */
  auditDir?: string;
  /**
   * Serve only audited weights: a model stays not ready (readiness 503, inference 503) until auditDir holds
   * an audit report for its exact weights sha256 (default false).
   */
  requireAudit?: boolean;
  /**
   * Query-attack detection (docs/detection.md): `false` or mode 'off' turns it off; defaults: block, in-memory
   * store (DEFAULT_DETECT). Pass `store` (e.g. a RedisDetectStore) to share it across instances and `seed` to
   * change the fingerprint hash (every instance of a fleet must use the same).
   */
  detect?:
    | (Partial<Omit<DetectSettings, 'fingerprint'>> & {
        fingerprint?: Partial<DetectSettings['fingerprint']>;
        store?: DetectStore;
        seed?: number;
      })
    | false;
  /**
   * Peer addresses of reverse proxies whose X-Forwarded-For names the client, for budgets and detection alike
   * (also accepted as budgets.trustedProxies; both lists count).
   */
  trustedProxies?: readonly string[];
  /** Where server faults and detections are logged (default console.error); client errors are never logged. */
  log?: (message: string) => void;
  /** The demo page at / and the model files its attacks use; `false` serves neither (default: on). */
  demo?: DemoOptions | false;
  /** Clock of the in-memory budget store and of the audit gate's re-checks (tests). */
  now?: () => number;
}

/** Fills in defaults and rejects nonsense limits early (a typo should fail at startup, not per request). */
export function resolveLimits(partial: Partial<Limits> = {}): Limits {
  const limits = { ...DEFAULT_LIMITS, ...partial };
  for (const [name, v] of Object.entries(limits)) {
    const min = name === 'maxQueue' ? 0 : 1;
    if (!Number.isSafeInteger(v) || v < min)
      throw new RangeError(`limits.${name}: expected an integer ≥ ${min}, got ${v}`);
  }
  return limits;
}

export function resolveBudgets(
  partial: Partial<Budgets> | false | undefined,
): Omit<Budgets, 'store'> | null {
  if (partial === false) return null;
  const b = { ...DEFAULT_BUDGETS, ...partial };
  if (!Number.isSafeInteger(b.limit) || b.limit < 1)
    throw new RangeError(`budgets.limit: expected an integer ≥ 1, got ${b.limit}`);
  if (!Number.isSafeInteger(b.windowMs) || b.windowMs < 1)
    throw new RangeError(`budgets.windowMs: expected an integer ≥ 1, got ${b.windowMs}`);
  if (b.maxClients !== undefined && (!Number.isSafeInteger(b.maxClients) || b.maxClients < 1))
    throw new RangeError(`budgets.maxClients: expected an integer ≥ 1, got ${b.maxClients}`);
  for (const t of b.trustedProxies ?? []) {
    if (normalizeAddress(t) === null)
      throw new RangeError(`budgets.trustedProxies: '${t}' is not an IP address`);
  }
  for (const k of b.keys ?? []) {
    if (typeof k !== 'string' || !/^[\x21-\x7e]{1,512}$/.test(k))
      throw new RangeError(
        'budgets.keys: every key must be 1 to 512 printable ASCII characters without spaces',
      );
  }
  return {
    limit: b.limit,
    windowMs: b.windowMs,
    keys: b.keys,
    trustedProxies: b.trustedProxies,
    maxClients: b.maxClients,
  };
}

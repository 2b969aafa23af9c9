// Flags and environment of the server entry files (bun.ts, deno.ts), parsed the same way for both: argv and
// env are passed in, so this file touches no runtime globals. Errors are ServeUsageError (exit code 2).
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_MAX_CLIENTS } from './budget/store.ts';
import { normalizeAddress } from './budget/address.ts';
import {
  DEFAULT_DETECT,
  DEFAULT_DETECT_SEED,
  DETECT_MODES,
  type DetectMode,
} from './detect/index.ts';
import {
  DEFAULT_BUDGETS,
  DEFAULT_LIMITS,
  SCORES_MODES,
  type Limits,
  type ModelSource,
  type ScoresMode,
  type ServeOptions,
} from './options.ts';

export class ServeUsageError extends Error {}

// The repository (or the installed package: dist/lib/ is two levels down too). Served from a registry as
// remote modules (JSR), the path stays a URL, which --model and --audit-dir replace.
const REPO = (rel: string) => {
  const url = new URL(`../../${rel}`, import.meta.url);
  return url.protocol === 'file:' ? fileURLToPath(url.href) : url.href;
};
// The hashed, adversarially trained CNN with random GI on top: the audit's side-by-side report shows what it holds.
export const DEFAULT_MODEL = { name: 'mnist-cnn-h8-at-gi', dir: REPO('models/mnist-cnn-h8-at-gi') };

export const serveUsage = `usage: bun src/serve/bun.ts [flags]   (also: npx deno run --allow-net --allow-read --allow-env src/serve/deno.ts,
       or under Node: npm run serve:node -- [flags])
  --host HOST              listen address (env HOST; default 127.0.0.1)
  --port PORT              port, 0 for any free one (env PORT; default 8080)
  --model NAME=DIR         serve the model directory DIR as NAME (repeatable; default ${DEFAULT_MODEL.name}=models/${DEFAULT_MODEL.name})
  --scores NAME=MODE       reveal scores of model NAME: none | probabilities | logits (repeatable; default none)
  --workers N              inference workers (default: logical cores)
  --max-body-bytes N       JSON body limit (default ${DEFAULT_LIMITS.maxBodyBytes})
  --max-image-bytes N      image body limit for :classify (default ${DEFAULT_LIMITS.maxImageBytes})
  --max-image-pixels N     decoded image limit in pixels, read from the header (default ${DEFAULT_LIMITS.maxImagePixels})
  --max-image-side N       largest image width or height (default ${DEFAULT_LIMITS.maxImageSide})
  --max-batch N            images per infer request (default ${DEFAULT_LIMITS.maxBatch})
  --deadline-ms N          per-request deadline (default ${DEFAULT_LIMITS.deadlineMs})
  --max-queue N            requests waiting for a worker before 503 (default ${DEFAULT_LIMITS.maxQueue})
  --budget-limit N         images per client per window, 0 = no budgets (default ${DEFAULT_BUDGETS.limit})
  --budget-window-ms N     budget window (default ${DEFAULT_BUDGETS.windowMs})
  --budget-max-clients N   clients tracked in memory, least recent dropped first (default ${DEFAULT_MAX_CLIENTS})
  --api-key KEY            an issued bearer key, or sha256:<hex> of one (repeatable; env HASHGUARD_API_KEYS,
                           comma-separated); with keys, any other bearer token is refused 401
  --api-key-file FILE      issued keys, one per line (the key or sha256:<hex>; env HASHGUARD_API_KEY_FILE)
  --trust-proxy ADDR       a reverse proxy's address: its X-Forwarded-For names the client (repeatable)
  --redis-url URL          keep budgets and query fingerprints in Redis, shared by a fleet (env REDIS_URL)
  --detect MODE            query-attack detection: off | log | block (default ${DEFAULT_DETECT.mode}); block answers a
                           flagged client 403 {"code": "query_attack_detected"} for --detect-ban-ms
  --detect-flag-after N    suspicious queries (near-copies of recent ones) among the client's last
                           --detect-window that flag it (default ${DEFAULT_DETECT.flagAfter})
  --detect-window N        how many of a client's latest queries are weighed, at most 32 (default ${DEFAULT_DETECT.window})
  --detect-match SHARE     share of the smaller fingerprint two queries have in common to match (default ${DEFAULT_DETECT.matchShare})
  --detect-crowd N         other clients' matches that make a query suspicious too (default ${DEFAULT_DETECT.crowd})
  --detect-history-ms N    how long fingerprints and counts are kept (default ${DEFAULT_DETECT.historyMs})
  --detect-max-queries N   fingerprints kept in memory, oldest dropped first (default ${DEFAULT_DETECT.maxQueries})
  --detect-ban-ms N        how long block refuses a flagged client (default ${DEFAULT_DETECT.banMs})
  --detect-seed N          fingerprint hash seed; every instance of a fleet must use the same (default ${DEFAULT_DETECT_SEED})
  --audit-dir DIR          audit reports for /robustness (default docs/audit)
  --require-audit          a model is ready only once --audit-dir holds an audit of its exact weights
  --no-demo                no demo page at / (and no model files)
  --no-model-files         do not publish the models' files (model.json, weights.safetensors): the demo page's
                           in-browser PGD then has no local copy to attack`;

export interface ServerConfig {
  host: string;
  port: number;
  /** createApp options, without a budget store (the entry file makes the Redis one). */
  options: ServeOptions;
  redisUrl: string | null;
  /** A file of issued API keys, read by startApp (this parser reads no files). */
  apiKeyFile: string | null;
}

function int(
  raw: string | undefined,
  name: string,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isSafeInteger(v) || v < min || v > max)
    throw new ServeUsageError(`--${name}: expected an integer in [${min}, ${max}], got '${raw}'`);
  return v;
}

function share(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (raw.trim() === '' || !(v > 0 && v <= 1))
    throw new ServeUsageError(`--${name}: expected a number in (0, 1], got '${raw}'`);
  return v;
}

function pairs(list: string[] | undefined, flag: string): [string, string][] {
  return (list ?? []).map((p) => {
    const i = p.indexOf('=');
    if (i <= 0 || i === p.length - 1)
      throw new ServeUsageError(`--${flag} '${p}': expected NAME=VALUE`);
    return [p.slice(0, i), p.slice(i + 1)];
  });
}

const multi = { type: 'string', multiple: true } as const,
  one = { type: 'string' } as const;
/** Every flag of the server entries (parseArgs options). */
const SERVE_FLAGS = {
  host: one,
  port: one,
  model: multi,
  scores: multi,
  workers: one,
  'max-body-bytes': one,
  'max-image-bytes': one,
  'max-image-pixels': one,
  'max-image-side': one,
  'max-batch': one,
  'deadline-ms': one,
  'max-queue': one,
  'budget-limit': one,
  'budget-window-ms': one,
  'api-key': multi,
  'api-key-file': one,
  'budget-max-clients': one,
  'redis-url': one,
  'audit-dir': one,
  'require-audit': { type: 'boolean' },
  'no-demo': { type: 'boolean' },
  'no-model-files': { type: 'boolean' },
  'trust-proxy': multi,
  detect: one,
  'detect-flag-after': one,
  'detect-window': one,
  'detect-match': one,
  'detect-crowd': one,
  'detect-history-ms': one,
  'detect-max-queries': one,
  'detect-ban-ms': one,
  'detect-seed': one,
} as const;

/** Parses argv (without the runtime and script) and env into the server's configuration. */
export function parseServeConfig(
  argv: string[],
  env: Record<string, string | undefined>,
): ServerConfig {
  let v: Record<string, string | string[] | boolean | undefined>;
  try {
    v = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: SERVE_FLAGS,
    }).values;
  } catch (e) {
    const unknown = /Unknown option '([^']+)'/.exec((e as Error).message);
    if (unknown)
      throw new ServeUsageError(
        `unknown flag ${unknown[1]} (valid flags: ${Object.keys(SERVE_FLAGS)
          .map((k) => `--${k}`)
          .join(', ')})`,
      );
    throw new ServeUsageError((e as Error).message);
  }
  const s = (k: string) => v[k] as string | undefined;
  const m = (k: string) => v[k] as string[] | undefined;
  const models: Record<string, ModelSource> = {};
  for (const [name, dir] of pairs(m('model'), 'model')) {
    if (models[name]) throw new ServeUsageError(`--model ${name}: given twice`);
    models[name] = { dir };
  }
  if (!Object.keys(models).length) models[DEFAULT_MODEL.name] = { dir: DEFAULT_MODEL.dir };
  for (const [name, mode] of pairs(m('scores'), 'scores')) {
    if (!models[name]) throw new ServeUsageError(`--scores ${name}: no such --model`);
    if (!SCORES_MODES.includes(mode as ScoresMode))
      throw new ServeUsageError(
        `--scores ${name}=${mode}: expected one of ${SCORES_MODES.join(', ')}`,
      );
    models[name].scores = mode as ScoresMode;
  }
  const limits: Limits = {
    maxBodyBytes: int(s('max-body-bytes'), 'max-body-bytes', DEFAULT_LIMITS.maxBodyBytes, 1),
    maxImageBytes: int(s('max-image-bytes'), 'max-image-bytes', DEFAULT_LIMITS.maxImageBytes, 1),
    maxImagePixels: int(
      s('max-image-pixels'),
      'max-image-pixels',
      DEFAULT_LIMITS.maxImagePixels,
      1,
    ),
    maxImageSide: int(s('max-image-side'), 'max-image-side', DEFAULT_LIMITS.maxImageSide, 1),
    maxBatch: int(s('max-batch'), 'max-batch', DEFAULT_LIMITS.maxBatch, 1),
    deadlineMs: int(s('deadline-ms'), 'deadline-ms', DEFAULT_LIMITS.deadlineMs, 1),
    maxQueue: int(s('max-queue'), 'max-queue', DEFAULT_LIMITS.maxQueue, 0),
  };
  const budgetLimit = int(s('budget-limit'), 'budget-limit', DEFAULT_BUDGETS.limit, 0);
  const keys = [
    ...(m('api-key') ?? []),
    ...(env.HASHGUARD_API_KEYS ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean),
  ];
  for (const t of m('trust-proxy') ?? []) {
    if (normalizeAddress(t) === null)
      throw new ServeUsageError(`--trust-proxy '${t}': expected an IP address`);
  }
  const apiKeyFile = (s('api-key-file') ?? env.HASHGUARD_API_KEY_FILE) || null;
  const workers = s('workers');
  const mode = s('detect') ?? DEFAULT_DETECT.mode;
  if (!DETECT_MODES.includes(mode as DetectMode))
    throw new ServeUsageError(
      `--detect: expected one of ${DETECT_MODES.join(', ')}, got '${mode}'`,
    );
  const d = DEFAULT_DETECT;
  const detect = {
    mode: mode as DetectMode,
    flagAfter: int(s('detect-flag-after'), 'detect-flag-after', d.flagAfter, 1, 32),
    window: int(s('detect-window'), 'detect-window', d.window, 1, 32),
    matchShare: share(s('detect-match'), 'detect-match', d.matchShare),
    crowd: int(s('detect-crowd'), 'detect-crowd', d.crowd, 1),
    historyMs: int(s('detect-history-ms'), 'detect-history-ms', d.historyMs, 1),
    maxQueries: int(s('detect-max-queries'), 'detect-max-queries', d.maxQueries, 1, 10_000_000),
    banMs: int(s('detect-ban-ms'), 'detect-ban-ms', d.banMs, 1),
    seed: int(s('detect-seed'), 'detect-seed', DEFAULT_DETECT_SEED, 0, 2 ** 32 - 1),
  };
  return {
    host: s('host') ?? env.HOST ?? '127.0.0.1',
    port: int(s('port') ?? env.PORT, 'port', 8080, 0, 65535),
    redisUrl: (s('redis-url') ?? env.REDIS_URL) || null,
    apiKeyFile,
    options: {
      models,
      limits,
      budgets:
        budgetLimit === 0
          ? false
          : {
              limit: budgetLimit,
              windowMs: int(s('budget-window-ms'), 'budget-window-ms', DEFAULT_BUDGETS.windowMs, 1),
              ...(keys.length ? { keys } : {}),
              ...(m('trust-proxy')?.length ? { trustedProxies: m('trust-proxy') } : {}),
              ...(s('budget-max-clients') !== undefined
                ? {
                    maxClients: int(
                      s('budget-max-clients'),
                      'budget-max-clients',
                      DEFAULT_MAX_CLIENTS,
                      1,
                    ),
                  }
                : {}),
            },
      ...(workers !== undefined ? { workers: int(workers, 'workers', 1, 1, 256) } : {}),
      detect,
      ...(m('trust-proxy')?.length ? { trustedProxies: m('trust-proxy') } : {}),
      auditDir: s('audit-dir') ?? REPO('docs/audit'),
      ...(v['require-audit'] ? { requireAudit: true } : {}),
      // The page's prebuilt scripts (npm run build:package); the Bun entry adds a build of its own.
      demo: v['no-demo']
        ? false
        : { dir: REPO('dist/demo'), ...(v['no-model-files'] ? { modelFiles: false } : {}) },
    },
  };
}

/** The URL to print for a listening address (IPv6 literals in brackets). */
export function serverUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

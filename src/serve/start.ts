// The runtime-neutral half of starting a server: the budget store (Redis when configured), the app, its
// warm-up, a one-line banner and an idempotent shutdown. bun.ts and deno.ts add only listening and signals.
import { readFile } from 'node:fs/promises';
import { createApp, type HashguardApp } from './app.ts';
import { parseKeyFile } from './budget/api-keys.ts';
import type { BudgetStore } from './budget/store.ts';
import { resolveDetect, type DetectStore } from './detect/index.ts';
import {
  parseServeConfig,
  serverUrl,
  serveUsage,
  ServeUsageError,
  type ServerConfig,
} from './config.ts';

export interface Started {
  app: HashguardApp;
  /** "hashguard serving … at http://…": printed once the port is known. */
  banner(port: number): string;
  /** Closes the workers and the budget store (call after the listener stopped). */
  shutdown(): Promise<void>;
}

/** Builds and warms up the app; throws (after cleaning up) when a model or the Redis store fails. */
export async function startApp(config: ServerConfig): Promise<Started> {
  if (config.apiKeyFile && config.options.budgets !== false) {
    let text: string;
    try {
      text = await readFile(config.apiKeyFile, 'utf8');
    } catch (e) {
      throw new Error(`API key file ${config.apiKeyFile}: ${(e as Error).message}`);
    }
    const fromFile = parseKeyFile(text);
    if (!fromFile.length) throw new Error(`API key file ${config.apiKeyFile}: no keys in it`);
    const budgets = config.options.budgets ?? {};
    config = {
      ...config,
      options: {
        ...config.options,
        budgets: { ...budgets, keys: [...(budgets.keys ?? []), ...fromFile] },
      },
    };
  }
  let store: (BudgetStore & { close(): Promise<void> }) | null = null;
  if (config.redisUrl && config.options.budgets !== false) {
    // Loaded only when asked for, so the default server (and Deno without Node's net) never imports ioredis.
    const { RedisBudgetStore } = await import('./budget/redis.ts');
    const redis = new RedisBudgetStore({ url: config.redisUrl });
    try {
      store = await redis.connect();
    } catch (e) {
      await redis.close();
      throw new Error(`redis ${config.redisUrl}: ${(e as Error).message}`);
    }
  }
  const budgets =
    config.options.budgets === false
      ? false
      : { ...config.options.budgets, ...(store ? { store } : {}) };
  // The detector shares the same Redis, so a fleet matches each other's queries.
  const detectOptions = config.options.detect;
  let detectStore: (DetectStore & { close(): Promise<void> }) | null = null;
  if (config.redisUrl && detectOptions && detectOptions.mode !== 'off') {
    const { RedisDetectStore } = await import('./detect/redis.ts');
    const d = resolveDetect(detectOptions);
    const redis = new RedisDetectStore(
      { ...d, topK: d.fingerprint.topK },
      { url: config.redisUrl },
    );
    try {
      detectStore = await redis.connect();
    } catch (e) {
      await redis.close();
      await store?.close();
      throw new Error(`redis ${config.redisUrl}: ${(e as Error).message}`);
    }
  }
  const detect =
    detectOptions && detectStore ? { ...detectOptions, store: detectStore } : detectOptions;
  let app: HashguardApp;
  try {
    app = createApp({ ...config.options, budgets, detect });
  } catch (e) {
    await store?.close();
    await detectStore?.close();
    throw e;
  }
  const shutdown = async () => {
    await app.close();
    await store?.close();
    await detectStore?.close();
  };
  try {
    await app.ready;
  } catch (e) {
    await shutdown();
    throw e;
  }
  const models = app.context.models.all();
  const banner = (port: number) => {
    const list = models
      .map(
        (m) =>
          `${m.name} (backend ${m.backend}${m.random ? ', random GI' : ''}, scores ${m.scores})`,
      )
      .join(', ');
    const keys = app.context.budgets?.keys?.length ?? 0;
    const budget =
      budgets === false
        ? 'off'
        : `${app.context.budgets!.limit}/${app.context.budgets!.windowMs} ms in ${store ? 'redis' : 'memory'}, per ${keys ? `API key (${keys} issued) or address` : 'address'}`;
    return `hashguard serving ${list} at ${serverUrl(config.host, port)} (workers ${app.context.executor.concurrency}, budgets ${budget})`;
  };
  return { app, banner, shutdown };
}

/** Whether a listen error means the port is taken (Bun, Node: code EADDRINUSE; Deno: AddrInUse). */
export function isAddrInUse(e: unknown): boolean {
  const err = e as { code?: unknown; name?: unknown; message?: unknown } | null;
  return (
    !!err &&
    (err.code === 'EADDRINUSE' ||
      err.name === 'AddrInUse' ||
      /EADDRINUSE|address already in use|in use/i.test(String(err.message ?? '')))
  );
}

/** The one line a server entry prints when it cannot listen (exit 1, no stack trace). */
export function listenFailure(e: unknown, host: string, port: number): string {
  if (isAddrInUse(e)) return `port ${port} is in use; set PORT or --port`;
  return `cannot listen on ${serverUrl(host, port)}: ${(e as Error)?.message ?? String(e)}`;
}

/**
 * What an entry does with its command line: `{config}` to start, or `{exit, message}` to print the message
 * (stdout for exit 0, --help; stderr for exit 2, a usage error) and exit without starting anything.
 */
export function entryConfig(
  argv: string[],
  env: Record<string, string | undefined>,
): { config: ServerConfig } | { exit: 0 | 2; message: string } {
  if (argv.includes('--help') || argv.includes('-h')) return { exit: 0, message: serveUsage };
  try {
    return { config: parseServeConfig(argv, env) };
  } catch (e) {
    if (!(e instanceof ServeUsageError)) throw e;
    return { exit: 2, message: `error: ${e.message}\n${serveUsage}` };
  }
}

/**
 * What every runtime entry does first: flags and environment to a config (help, or a usage error, print and exit
 * through `exit`), `configure` for the entry's own options, then the started app (a failure prints its message
 * and exits 1). The entry then listens in its runtime's own way.
 */
export async function startEntry(
  argv: string[],
  env: Record<string, string | undefined>,
  exit: (code: number) => never,
  configure: (config: ServerConfig) => ServerConfig = (config) => config,
): Promise<Started & { config: ServerConfig }> {
  const entry = entryConfig(argv, env);
  if ('exit' in entry) {
    (entry.exit === 0 ? console.log : console.error)(entry.message);
    return exit(entry.exit);
  }
  const config = configure(entry.config);
  try {
    return { ...(await startApp(config)), config };
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    return exit(1);
  }
}

/**
 * The graceful stop every entry installs: on the first SIGINT or SIGTERM (later ones are ignored) it says so,
 * stops the listener, closes workers and the budget store, and exits 0. `listen(signal, handler)` is the
 * runtime's signal API; `closeListener` stops accepting connections.
 */
export function onStopSignals(
  listen: (signal: 'SIGINT' | 'SIGTERM', handler: () => void) => void,
  closeListener: () => Promise<unknown> | void,
  shutdown: () => Promise<void>,
  exit: (code: number) => void,
): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`hashguard: ${signal}, shutting down`);
    await closeListener();
    await shutdown();
    exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) listen(signal, () => void stop(signal));
}

// The runtime-neutral half of starting a server: the budget store (Redis when configured), the app, its
// warm-up, a one-line banner and an idempotent shutdown. bun.ts and deno.ts add only listening and signals.
import { createApp, type HashguardApp } from './app.ts';
import type { BudgetStore } from './budget/store.ts';
import { serverUrl, type ServerConfig } from './config.ts';

export interface Started {
  app: HashguardApp;
  /** "hashguard serving … at http://…": printed once the port is known. */
  banner(port: number): string;
  /** Closes the workers and the budget store (call after the listener stopped). */
  shutdown(): Promise<void>;
}

/** Builds and warms up the app; throws (after cleaning up) when a model or the Redis store fails. */
export async function startApp(config: ServerConfig): Promise<Started> {
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
  const budgets = config.options.budgets === false ? false : { ...config.options.budgets, ...(store ? { store } : {}) };
  const app = createApp({ ...config.options, budgets });
  const shutdown = async () => {
    await app.close();
    await store?.close();
  };
  try {
    await app.ready;
  } catch (e) {
    await shutdown();
    throw e;
  }
  const models = app.context.models.all();
  const banner = (port: number) => {
    const list = models.map((m) => `${m.name} (backend ${m.backend}${m.random ? ', random GI' : ''}, scores ${m.scores})`).join(', ');
    const budget = budgets === false ? 'off' : `${app.context.budgets!.limit}/${app.context.budgets!.windowMs} ms in ${store ? 'redis' : 'memory'}`;
    return `hashguard serving ${list} at ${serverUrl(config.host, port)} (workers ${app.context.executor.concurrency}, budgets ${budget})`;
  };
  return { app, banner, shutdown };
}

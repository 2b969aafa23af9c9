// `hashguard serve`: the HTTP server (src/serve) on node:http, which Node, Bun and Deno all provide, with
// inference in worker threads. Same flags as `bun run serve` (which listens with Bun.serve instead); it runs
// until SIGINT or SIGTERM, then stops listening, closes the workers and the budget store, and returns.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { onStopSignal, readEnvAll } from '../runtime/index.ts';
import {
  DEFAULT_EMBEDDED_MODEL,
  DEFAULT_MODEL,
  loadEmbeddedModel,
  listenFailure,
  listenNodeHttp,
  onStopSignals,
  parseServeConfig,
  serveUsage as serverFlags,
  ServeUsageError,
  startApp,
  type NodeListener,
  type ServerConfig,
} from '../serve/index.ts';
import { HelpRequested, UsageError } from './args.ts';

/** The server's flags under this command's name. */
export const serveUsage = `usage: hashguard serve [flags]   (default model: ${DEFAULT_MODEL.name}, shipped with hashguard)
${serverFlags.slice(serverFlags.indexOf('  --host'))}`;

export async function serveCommand(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) throw new HelpRequested();
  let config: ServerConfig;
  try {
    config = parseServeConfig(argv, readEnvAll());
  } catch (e) {
    if (e instanceof ServeUsageError) throw new UsageError(e.message);
    throw e;
  }
  config = await withEmbeddedDefault(config);
  // A model or Redis failure throws here: the CLI prints its one-line message and exits 1.
  const started = await startApp(config);
  let listener: NodeListener;
  try {
    listener = await listenNodeHttp(started.app, config.host, config.port);
  } catch (e) {
    await started.shutdown();
    throw new Error(listenFailure(e, config.host, config.port));
  }
  console.log(started.banner(listener.port));
  await new Promise<void>((resolve) =>
    onStopSignals(
      onStopSignal,
      () => listener.close(),
      started.shutdown,
      () => resolve(),
    ),
  );
}

/**
 * Without --model the default model is served from its directory when there is one (a checkout, the npm package),
 * else from the copy embedded in the code (the single binary, which carries no models/ folder).
 */
async function withEmbeddedDefault(config: ServerConfig): Promise<ServerConfig> {
  const models = config.options.models;
  const source = models[DEFAULT_MODEL.name];
  const onlyDefault =
    Object.keys(models).length === 1 &&
    source &&
    'dir' in source &&
    source.dir === DEFAULT_MODEL.dir;
  if (!onlyDefault || existsSync(join(DEFAULT_MODEL.dir, 'model.json'))) return config;
  const model = await loadEmbeddedModel(DEFAULT_EMBEDDED_MODEL);
  return {
    ...config,
    options: {
      ...config.options,
      models: { [DEFAULT_MODEL.name]: { model, scores: source.scores } },
    },
  };
}

// `hashguard serve`: the HTTP server (src/serve) on node:http, which Node, Bun and Deno all provide, with
// inference in worker threads. Same flags as `bun run serve` (which listens with Bun.serve instead); it runs
// until SIGINT or SIGTERM, then stops listening, closes the workers and the budget store, and returns.
import { onStopSignal, readEnvAll } from '../runtime/index.ts';
import {
  DEFAULT_MODEL,
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

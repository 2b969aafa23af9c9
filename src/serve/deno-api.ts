// What the Deno entries (deno.ts, deno-deploy.ts) share: the few Deno APIs they use, typed here once (the project
// typechecks against Bun's types only), and listening with Deno.serve until a stop signal. The entries pass their
// global `Deno` in; this file reads no runtime global itself.
import { listenFailure, onStopSignals, type Started } from './start.ts';
import type { ServerConfig } from './config.ts';

export interface DenoApi {
  args: string[];
  env: { toObject(): Record<string, string> };
  exit(code: number): never;
  addSignalListener(signal: 'SIGINT' | 'SIGTERM', handler: () => void): void;
  serve(
    options: {
      hostname: string;
      port: number;
      onListen?: (addr: { hostname: string; port: number }) => void;
    },
    handler: (
      req: Request,
      info: { remoteAddr: { hostname: string } },
    ) => Response | Promise<Response>,
  ): { shutdown(): Promise<void>; finished: Promise<void> };
}

/**
 * Serves the started app with Deno.serve on the configured address (the banner once listening; a failure to
 * listen exits 1 after cleaning up), then stops gracefully on SIGINT or SIGTERM. `signalsOptional`: where the
 * platform offers no signal listeners (Deno Deploy stops isolates itself), go on without them.
 */
export async function serveOnDeno(
  deno: DenoApi,
  started: Started & { config: ServerConfig },
  signalsOptional = false,
): Promise<void> {
  const { app, banner, shutdown, config } = started;
  let server: ReturnType<DenoApi['serve']>;
  try {
    server = deno.serve(
      {
        hostname: config.host,
        port: config.port,
        onListen: ({ port }) => console.log(banner(port)),
      },
      (req, info) => app.fetch(req, { clientAddress: info.remoteAddr.hostname }),
    );
  } catch (e) {
    console.error(`error: ${listenFailure(e, config.host, config.port)}`);
    await shutdown();
    return deno.exit(1);
  }
  try {
    onStopSignals(
      (signal, handler) => deno.addSignalListener(signal, handler),
      () => server.shutdown(),
      shutdown,
      (code) => deno.exit(code),
    );
  } catch (e) {
    if (!signalsOptional) throw e;
    // no signals here: nothing to clean up that the platform does not
  }
}

// Bun entry: `bun src/serve/bun.ts [flags]` (or `bun run serve`). Listens with Bun.serve, passes the peer
// address to the app for budgets, builds the demo page's scripts with Bun.build, and on SIGINT/SIGTERM stops
// listening, then closes workers and Redis.
import { bundleDemo, type BrowserBundler } from './demo/index.ts';
import { listenFailure, onStopSignals, startEntry } from './start.ts';

// The demo page's scripts are built by Bun.build from the sources on the first request (Node and Deno serve the
// prebuilt dist/demo/ instead).
const build = () => bundleDemo(Bun.build as unknown as BrowserBundler);
const { app, banner, shutdown, config } = await startEntry(
  process.argv.slice(2),
  process.env,
  (code) => process.exit(code),
  (c) =>
    c.options.demo === false
      ? c
      : { ...c, options: { ...c.options, demo: { ...c.options.demo, build } } },
);
// maxRequestBodySize sits far above the app's limits: Bun would answer an over-limit body itself with an
// empty 413, while the app answers JSON, refusing from Content-Length or stopping its streamed read at the
// route's cap, so memory stays bounded by the app's limits, not Bun's.
let server: ReturnType<typeof Bun.serve>;
try {
  server = Bun.serve({
    hostname: config.host,
    port: config.port,
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    fetch: (req, srv) => app.fetch(req, { clientAddress: srv.requestIP(req)?.address }),
  });
} catch (e) {
  console.error(`error: ${listenFailure(e, config.host, config.port)}`);
  await shutdown();
  process.exit(1);
}
console.log(banner(server.port ?? config.port));

onStopSignals(
  (signal, handler) => process.on(signal, handler),
  () => server.stop(),
  shutdown,
  (code) => process.exit(code),
);

// Bun entry: `bun src/serve/bun.ts [flags]` (or `bun run serve`). Listens with Bun.serve, passes the peer
// address to the app for budgets, and on SIGINT/SIGTERM stops listening, then closes workers and Redis.
import { parseServeConfig, serveUsage, ServeUsageError } from './config.ts';
import { startApp } from './start.ts';

const argv = process.argv.slice(2);
if (argv.includes('--help')) {
  console.log(serveUsage);
  process.exit(0);
}
let config;
try {
  config = parseServeConfig(argv, process.env);
} catch (e) {
  if (!(e instanceof ServeUsageError)) throw e;
  console.error(`error: ${e.message}\n${serveUsage}`);
  process.exit(2);
}
let started;
try {
  started = await startApp(config);
} catch (e) {
  console.error(`error: ${(e as Error).message}`);
  process.exit(1);
}
const { app, banner, shutdown } = started;
// NOTE: no maxRequestBodySize: Bun would answer over-limit bodies itself (not as {"error"}); the app refuses
// them from Content-Length or stops reading at its per-route cap instead.
const server = Bun.serve({
  hostname: config.host,
  port: config.port,
  fetch: (req, srv) => app.fetch(req, { clientAddress: srv.requestIP(req)?.address }),
});
console.log(banner(server.port ?? config.port));

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`hashguard: ${signal}, shutting down`);
  await server.stop();
  await shutdown();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));

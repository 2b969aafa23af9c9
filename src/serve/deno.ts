// Deno entry, same app and flags as bun.ts:
//   npx deno run --allow-net --allow-read --allow-env src/serve/deno.ts [flags]
// Deno resolves hono and zod from node_modules through package.json (run `npm ci` first).
import type { DenoApi } from './deno-api.ts';
import { listenFailure, onStopSignals, startEntry } from './start.ts';

declare const Deno: DenoApi;

const { app, banner, shutdown, config } = await startEntry(Deno.args, Deno.env.toObject(), (code) =>
  Deno.exit(code),
);
let server: ReturnType<typeof Deno.serve>;
try {
  server = Deno.serve(
    { hostname: config.host, port: config.port, onListen: ({ port }) => console.log(banner(port)) },
    (req, info) => app.fetch(req, { clientAddress: info.remoteAddr.hostname }),
  );
} catch (e) {
  console.error(`error: ${listenFailure(e, config.host, config.port)}`);
  await shutdown();
  Deno.exit(1);
}

onStopSignals(
  (signal, handler) => Deno.addSignalListener(signal, handler),
  () => server.shutdown(),
  shutdown,
  (code) => Deno.exit(code),
);

// Node entry, same app and flags as bun.ts: `npm run serve:node -- [flags]` bundles this file for Node
// (dist/node/serve.mjs) and runs it on node:http (node-listener.ts). That single-file bundle carries no worker
// script, so inference runs in-process here (deadlines cannot interrupt it; `hashguard serve` uses workers).
import { inProcessExecutor } from './executor.ts';
import { listenNodeHttp, type NodeListener } from './node-listener.ts';
import { listenFailure, onStopSignals, startEntry } from './start.ts';

const { app, banner, shutdown, config } = await startEntry(
  process.argv.slice(2),
  process.env,
  (code) => process.exit(code),
  (c) => ({ ...c, options: { ...c.options, executor: inProcessExecutor() } }),
);

let listener: NodeListener;
try {
  listener = await listenNodeHttp(app, config.host, config.port);
} catch (e) {
  console.error(`error: ${listenFailure(e, config.host, config.port)}`);
  await shutdown();
  process.exit(1);
}
console.log(banner(listener.port));

onStopSignals(
  (signal, handler) => process.on(signal, handler),
  () => listener.close(),
  shutdown,
  (code) => process.exit(code),
);

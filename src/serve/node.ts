// Node entry, same app and flags as bun.ts: `npm run serve:node -- [flags]` bundles this file for Node
// (dist/node/serve.mjs) and runs it. node:http requests become fetch Requests and back. Node 20 has no
// global Web Worker, so inference runs in-process here (deadlines cannot interrupt it; prefer Bun or Deno).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { inProcessExecutor } from './executor.ts';
import { UNROUTABLE_MESSAGE } from './request-guard.ts';
import { listenFailure, onStopSignals, startEntry } from './start.ts';

const { app, banner, shutdown, config } = await startEntry(
  process.argv.slice(2),
  process.env,
  (code) => process.exit(code),
  (c) => ({ ...c, options: { ...c.options, executor: inProcessExecutor() } }),
);

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const host = req.headers.host;
  if (!host) {
    // A fetch Request needs an absolute URL; answer what the app's guard answers elsewhere.
    res
      .writeHead(400, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error: UNROUTABLE_MESSAGE }));
    return;
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  const request = new Request(`http://${host}${req.url ?? '/'}`, {
    method: req.method,
    headers: Object.entries(req.headers).flatMap(([k, v]) =>
      Array.isArray(v)
        ? v.map((x) => [k, x] as [string, string])
        : v === undefined
          ? []
          : [[k, v] as [string, string]],
    ),
    ...(hasBody
      ? { body: Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>, duplex: 'half' }
      : {}),
  } as RequestInit);
  const response = await app.fetch(request, { clientAddress: req.socket.remoteAddress });
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (response.body && req.method !== 'HEAD') {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>)
      res.write(chunk);
  }
  res.end();
  // An unread request body (refused early) must not keep the connection half-open.
  if (hasBody && !req.complete) req.destroy();
}

const server = createServer((req, res) => {
  handle(req, res).catch(() => {
    if (!res.headersSent)
      res
        .writeHead(500, { 'content-type': 'application/json' })
        .end('{"error":"internal server error"}');
    else res.destroy();
  });
});
server.on('error', async (e) => {
  console.error(`error: ${listenFailure(e, config.host, config.port)}`);
  await shutdown();
  process.exit(1);
});
server.listen(config.port, config.host, () => {
  const address = server.address();
  console.log(banner(typeof address === 'object' && address ? address.port : config.port));
});

onStopSignals(
  (signal, handler) => process.on(signal, handler),
  () => new Promise<void>((r) => server.close(() => r())),
  shutdown,
  (code) => process.exit(code),
);

// The app on node:http, which Node, Bun and Deno all provide: node:http requests become fetch Requests and
// back. Used by the Node entry (node.ts) and by `hashguard serve`; it listens, and never reads the process.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { HashguardApp } from './app.ts';
import { UNROUTABLE_MESSAGE } from './request-guard.ts';

/** A listening node:http server: the port it bound (PORT 0 picks one) and a close that waits for it. */
export interface NodeListener {
  port: number;
  close(): Promise<void>;
}

async function handle(app: HashguardApp, req: IncomingMessage, res: ServerResponse): Promise<void> {
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

/** Listens on host:port; rejects with the listen error (EADDRINUSE, …) when it cannot. */
export function listenNodeHttp(
  app: HashguardApp,
  host: string,
  port: number,
): Promise<NodeListener> {
  const server = createServer((req, res) => {
    handle(app, req, res).catch(() => {
      if (!res.headersSent)
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end('{"error":"internal server error"}');
      else res.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : port,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}

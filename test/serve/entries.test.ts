// The three server entries (Bun, Deno, Node) over real sockets: a busy port ends in one line and exit 1; a
// request without a Host header gets 400, not a wrong route; any oversized body gets the app's JSON 413
// (the runtime's own body limit sits above the app's), declared or streamed.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helpers.ts';
import { waitForLine } from '../helpers/wait-for-line.ts';

const MODEL = `plain=${join(ROOT, 'models/mnist-lenet5')}`;
const deno = join(ROOT, 'node_modules/.bin/deno');

/** Holds a port busy for the tests (listening socket of this process). */
async function busyPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as { port: number }).port, server };
}

/** Raw HTTP over TCP: sends `request` as written, returns what comes back until close or timeout. */
function rawHttp(port: number, request: string | Uint8Array, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    const s = connect(port, '127.0.0.1', () => s.write(request));
    const done = () => {
      s.destroy();
      resolve(out);
    };
    s.on('data', (d) => {
      out += d.toString('latin1');
      if (/\r\n\r\n/.test(out) && /content-length: *(\d+)/i.test(out)) {
        const len = Number(/content-length: *(\d+)/i.exec(out)![1]);
        if (out.length - out.indexOf('\r\n\r\n') - 4 >= len) done();
      }
    });
    s.on('error', done);
    s.on('close', done);
    setTimeout(done, timeoutMs);
  });
}

let nodeDir = '';
const entries: Record<string, () => string[]> = {
  bun: () => [process.execPath, join(ROOT, 'src/serve/bun.ts')],
  deno: () => [
    deno,
    'run',
    '--quiet',
    '--allow-net',
    '--allow-read',
    '--allow-env',
    '--allow-sys',
    join(ROOT, 'src/serve/deno.ts'),
  ],
  node: () => ['node', join(nodeDir, 'serve.mjs')],
};

beforeAll(() => {
  nodeDir = mkdtempSync(join(tmpdir(), 'hashguard-node-serve-'));
  const build = Bun.spawnSync(
    [
      process.execPath,
      'build',
      join(ROOT, 'src/serve/node.ts'),
      '--target=node',
      '--outfile',
      join(nodeDir, 'serve.mjs'),
    ],
    { cwd: ROOT, stderr: 'pipe' },
  );
  if (build.exitCode !== 0) throw new Error(`bun build --target=node failed: ${build.stderr}`);
}, 60_000); // a bundle build: about a second alone, longer on a loaded machine (the default hook limit is 5 s)
afterAll(() => rmSync(nodeDir, { recursive: true, force: true }));

describe('a busy port', () => {
  for (const runtime of Object.keys(entries)) {
    test(`${runtime}: one line, exit 1, no stack trace`, async () => {
      const { port, server } = await busyPort();
      try {
        const proc = Bun.spawn(
          [...entries[runtime](), '--port', String(port), '--workers', '1', '--model', MODEL],
          { cwd: ROOT, stdout: 'pipe', stderr: 'pipe', env: { ...process.env, REDIS_URL: '' } },
        );
        expect(await proc.exited).toBe(1);
        const err = (await new Response(proc.stderr).text()).trim();
        expect(err).toBe(`error: port ${port} is in use; set PORT or --port`);
      } finally {
        server.close();
      }
    }, 60_000);
  }
});

describe('requests the app must answer itself', () => {
  for (const runtime of ['bun', 'deno', 'node'] as const) {
    test(`${runtime}: no Host header is a 400 JSON; an oversized body is the app's JSON 413, declared or streamed`, async () => {
      const proc = Bun.spawn(
        [...entries[runtime](), '--port', '0', '--workers', '1', '--model', MODEL],
        { cwd: ROOT, stdout: 'pipe', stderr: 'pipe', env: { ...process.env, REDIS_URL: '' } },
      );
      try {
        const line = await waitForLine(proc.stdout, /^hashguard serving /, 30_000);
        const port = Number(/:(\d+) \(/.exec(line)![1]);
        // HTTP/1.0 without Host: the bare path must not be routed (Hono would split '/v2/health/ready' wrongly).
        // Deno fills in its own address as the host (the right route); Bun hands the app a bare path.
        const noHost = await rawHttp(port, 'GET /v2/health/ready HTTP/1.0\r\n\r\n');
        if (runtime === 'deno') expect(noHost).toMatch(/^HTTP\/1\.[01] 200[^]*\{"ready":true\}$/);
        else {
          expect(noHost).toMatch(/^HTTP\/1\.[01] 400/);
          expect(noHost).toContain('{"error":"cannot route this request');
        }
        const withHost = await rawHttp(port, 'GET /v2/health/ready HTTP/1.0\r\nHost: x\r\n\r\n');
        expect(withHost).toMatch(/^HTTP\/1\.[01] 200/);
        // 200 MiB declared (above Bun's default 128 MiB limit): the app's JSON, without reading the body.
        const declared = await rawHttp(
          port,
          'POST /v2/models/plain/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 209715200\r\n\r\n{',
        );
        expect(declared).toMatch(/^HTTP\/1\.1 413/);
        expect(declared).toContain('{"error":"request body of 209715200 bytes is larger than');
        // The same on a route that reads no body at all.
        const anyRoute = await rawHttp(
          port,
          'POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 209715200\r\n\r\n',
        );
        expect(anyRoute).toMatch(/^HTTP\/1\.1 413/);
        // Streamed without Content-Length: the route's cap stops the read.
        const chunked = await fetch(`http://127.0.0.1:${port}/v1/models/plain:classify`, {
          method: 'POST',
          headers: { 'content-type': 'image/png' },
          duplex: 'half',
          body: new ReadableStream({
            pull(c) {
              c.enqueue(new Uint8Array(1 << 20));
            },
          }),
        } as RequestInit).catch((e) => e as Error);
        expect(chunked instanceof Error ? chunked.message : chunked.status).toBe(413);
        expect((await (chunked as Response).json()).error).toContain('larger than the limit');
        expect((await fetch(`http://127.0.0.1:${port}/v2/health/ready`)).status).toBe(200);
      } finally {
        proc.kill('SIGTERM');
        await proc.exited;
      }
    }, 60_000);
  }
});

// The real entry point over a real port: `bun src/serve/bun.ts --port 0` starts workers, prints its URL,
// answers HTTP (health, infer, classify, metrics), and exits 0 on SIGTERM after closing the pool.
import { describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { digitPng, inferBody, mnistDigits, ROOT } from './helpers.ts';

/** Reads until a line matches; returns it and a function that reads the rest of the stream. */
async function firstLine(
  stream: ReadableStream<Uint8Array>,
  match: RegExp,
  timeoutMs: number,
): Promise<{ line: string; rest: () => Promise<string> }> {
  const reader = stream.getReader(),
    decoder = new TextDecoder();
  const rest = async () => {
    let text = '';
    for (let r = await reader.read(); !r.done; r = await reader.read())
      text += decoder.decode(r.value, { stream: true });
    return text;
  };
  let seen = '';
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { done, value } = await Promise.race([
      reader.read(),
      Bun.sleep(deadline - Date.now()).then(() => ({ done: true, value: undefined })),
    ]);
    if (done) break;
    seen += decoder.decode(value, { stream: true });
    const line = seen.split('\n').find((l) => match.test(l));
    if (line) return { line, rest };
  }
  throw new Error(`no line matching ${match} within ${timeoutMs} ms; output so far:\n${seen}`);
}

describe('bun src/serve/bun.ts', () => {
  test('serves over HTTP and shuts down cleanly on SIGTERM', async () => {
    const proc = Bun.spawn(
      [
        process.execPath,
        join(ROOT, 'src/serve/bun.ts'),
        '--port',
        '0',
        '--workers',
        '1',
        '--model',
        `plain=${join(ROOT, 'models/mnist-lenet5')}`,
        '--scores',
        'plain=probabilities',
        '--budget-limit',
        '3',
      ],
      {
        cwd: ROOT,
        stdout: 'pipe',
        stderr: 'pipe',
        env: { ...process.env, REDIS_URL: '' },
      },
    );
    let rest: (() => Promise<string>) | null = null;
    try {
      const first = await firstLine(proc.stdout, /^hashguard serving /, 20_000);
      const line = first.line;
      rest = first.rest;
      const url = /at (http:\/\/[^ ]+)/.exec(line)![1];
      expect(line).toContain('plain (backend cpu-');
      expect(line).toContain('scores probabilities');
      expect(await (await fetch(`${url}/v2/health/ready`)).json()).toEqual({ ready: true });
      const d = mnistDigits(2);
      const infer = await fetch(`${url}/v2/models/plain/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: inferBody(d.floats),
      });
      expect(infer.status).toBe(200);
      const out = await infer.json();
      expect(out.outputs[0].data).toEqual(d.labels);
      const png = await fetch(`${url}/v1/models/plain:classify`, {
        method: 'POST',
        headers: { 'content-type': 'image/png' },
        body: digitPng(d.bytes.subarray(0, 784)),
      });
      expect((await png.json()).label).toBe(d.labels[0]);
      // The budget of 3 images is per client address, taken from the real connection.
      const over = await fetch(`${url}/v1/models/plain:classify`, {
        method: 'POST',
        headers: { 'content-type': 'image/png' },
        body: digitPng(d.bytes.subarray(0, 784)),
      });
      expect(over.status).toBe(429);
      expect(over.headers.get('retry-after')).not.toBeNull();
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toContain(
        'hashguard_http_requests_total{route="/v2/models/:name/infer",method="POST",status="200"} 1',
      );
      expect(metrics).toContain('hashguard_budget_rejections_total 1');
    } finally {
      proc.kill('SIGTERM');
    }
    expect(await proc.exited).toBe(0);
    expect(await rest!()).toContain('SIGTERM, shutting down');
  }, 40_000);

  test('a bad flag is a usage error (exit 2)', async () => {
    const proc = Bun.spawn([process.execPath, join(ROOT, 'src/serve/bun.ts'), '--max-batch', '0'], {
      cwd: ROOT,
      stdout: 'pipe',
      stderr: 'pipe',
    });
    expect(await proc.exited).toBe(2);
    expect(await new Response(proc.stderr).text()).toContain('--max-batch: expected an integer');
  }, 20_000);

  test('a missing model directory fails startup (exit 1) with the path', async () => {
    const proc = Bun.spawn(
      [
        process.execPath,
        join(ROOT, 'src/serve/bun.ts'),
        '--port',
        '0',
        '--workers',
        '1',
        '--model',
        'x=/nonexistent/model',
      ],
      { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' },
    );
    expect(await proc.exited).toBe(1);
    expect(await new Response(proc.stderr).text()).toContain('/nonexistent/model');
  }, 20_000);
});

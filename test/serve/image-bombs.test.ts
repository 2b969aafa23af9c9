// Image bombs against the real server in a child process (`bun src/serve/bun.ts --port 0`): a 1 × 16,777,216
// PNG, an interlaced PNG and a small PNG whose data inflate far past their headers, and a JPEG claiming
// 65,535 × 65,535. Each is answered 413/400 with a JSON error in under a second, the child's resident memory
// (VmRSS) grows by less than 64 MiB over all of them, and a normal image is classified afterwards.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { ihdr, pngChunk, pngFile } from '../data/png-fixtures.ts';
import { digitPng, mnistDigits, ROOT } from './helpers.ts';

const MiB = 1 << 20;

/** Resident memory of a process, from /proc/<pid>/status (Linux). */
function vmRssMiB(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  return kb / 1024;
}

/** A PNG: IHDR (grey 8-bit unless given), one IDAT holding the zlib stream of `raw` zero bytes, IEND. */
function zeroPng(
  width: number,
  height: number,
  rawBytes: number,
  interlace = 0,
): Uint8Array<ArrayBuffer> {
  const idat = zlib.deflateSync(new Uint8Array(rawBytes), { level: 9 });
  return pngFile([
    pngChunk('IHDR', ihdr(width, height, 8, 0, interlace)),
    pngChunk('IDAT', idat),
    pngChunk('IEND'),
  ]);
}

const BOMBS: {
  name: string;
  type: string;
  body: () => Uint8Array<ArrayBuffer>;
  status: number;
  error: RegExp;
}[] = [
  {
    // What drove the old server to 6.35 GB and 26 s: 16,777,216 rows of 1 pixel, 32 MiB of zero rows, ~32 KB.
    name: '1 × 16,777,216 PNG',
    type: 'image/png',
    body: () => zeroPng(1, 16_777_216, 2 * 16_777_216),
    status: 413,
    error: /^request body: PNG is 1×16777216, more than the 4194304-pixel limit$/,
  },
  {
    // 64×64 Adam7 implies 4,224 bytes of image data; this IDAT inflates to 512 MiB.
    name: 'interlaced PNG inflating past its header',
    type: 'image/png',
    body: () => zeroPng(64, 64, 512 * MiB, 1),
    status: 400,
    error: /PNG data inflates past the \d+ bytes its header implies/,
  },
  {
    name: 'JPEG whose SOF claims 65,535 × 65,535',
    type: 'image/jpeg',
    status: 413,
    body: () =>
      Uint8Array.of(
        0xff,
        0xd8,
        0xff,
        0xe0,
        0,
        4,
        0,
        0,
        0xff,
        0xc0,
        0,
        11,
        8,
        0xff,
        0xff,
        0xff,
        0xff,
        1,
        1,
        0x11,
        0,
        0xff,
        0xda,
        0,
        2,
        0xff,
        0xd9,
      ),
    error: /^request body: JPEG is 65535×65535, more than the 4194304-pixel limit$/,
  },
  {
    // A 32×32 image (1,056 bytes of data) whose IDAT inflates to 400 MiB: a zlib bomb of ~400 KB.
    name: 'zlib bomb (32×32 PNG, 400 MiB of IDAT)',
    type: 'image/png',
    body: () => zeroPng(32, 32, 400 * MiB),
    status: 400,
    error: /PNG data inflates past the 1056 bytes its header implies/,
  },
];

let proc: ReturnType<typeof Bun.spawn> & { stdout: ReadableStream<Uint8Array> };
let url = '';
const digits = mnistDigits(1);

async function classify(body: Uint8Array<ArrayBuffer>, type = 'image/png') {
  const t0 = performance.now();
  const res = await fetch(`${url}/v1/models/plain:classify`, {
    method: 'POST',
    headers: { 'content-type': type },
    body,
  });
  const text = await res.text();
  return {
    status: res.status,
    text,
    ms: performance.now() - t0,
    contentType: res.headers.get('content-type') ?? '',
  };
}

beforeAll(async () => {
  proc = Bun.spawn(
    [
      process.execPath,
      join(ROOT, 'src/serve/bun.ts'),
      '--port',
      '0',
      '--workers',
      '1',
      '--budget-limit',
      '1000',
      '--model',
      `plain=${join(ROOT, 'models/mnist-lenet5')}`,
    ],
    { cwd: ROOT, stdout: 'pipe', stderr: 'inherit', env: { ...process.env, REDIS_URL: '' } },
  );
  const reader = proc.stdout.getReader(),
    decoder = new TextDecoder(),
    deadline = Date.now() + 20_000;
  let seen = '';
  while (!url && Date.now() < deadline) {
    const { done, value } = await reader.read();
    if (done) break;
    seen += decoder.decode(value, { stream: true });
    url = /at (http:\/\/\S+)/.exec(seen)?.[1] ?? '';
  }
  reader.releaseLock();
  if (!url) throw new Error(`server did not start; output:\n${seen}`);
}, 30_000);

afterAll(async () => {
  proc?.kill('SIGTERM');
  await proc?.exited;
});

describe('image bombs against bun src/serve/bun.ts', () => {
  test('each is refused in under a second with a JSON error, and memory stays flat', async () => {
    const bodies = BOMBS.map((b) => b.body()); // built before measuring, so only the server's work counts
    for (const body of bodies) expect(body.length).toBeLessThan(1 * MiB);
    expect(bodies[0].length).toBeLessThan(40_000);
    // Warm up: a normal request loads the model into the worker and JITs the image path.
    const warm = await classify(digitPng(digits.bytes.subarray(0, 784), { scale: 4 }));
    expect(warm.status).toBe(200);
    Bun.gc(true);
    const before = vmRssMiB(proc.pid);
    const report: string[] = [];
    for (let i = 0; i < BOMBS.length; i++) {
      const { name, type, status, error } = BOMBS[i];
      const r = await classify(bodies[i], type);
      report.push(
        `${name}: ${r.status} in ${r.ms.toFixed(1)} ms, RSS ${vmRssMiB(proc.pid).toFixed(1)} MiB`,
      );
      expect(r.status).toBe(status);
      expect(r.contentType).toContain('application/json');
      expect(JSON.parse(r.text).error).toMatch(error);
      expect(r.ms).toBeLessThan(1000);
    }
    const after = vmRssMiB(proc.pid);
    console.log(
      `[image-bombs] RSS before ${before.toFixed(1)} MiB, after ${after.toFixed(1)} MiB\n  ${report.join('\n  ')}`,
    );
    expect(after - before).toBeLessThan(64);
    // The server still works, for a normal digit and for an allowed image at the side limit (2 × 8192).
    const normal = await classify(digitPng(digits.bytes.subarray(0, 784)));
    expect(normal.status).toBe(200);
    expect(JSON.parse(normal.text).label).toBe(digits.labels[0]);
    const tall = await classify(zeroPng(2, 8192, 8192 * 3));
    expect(tall.status).toBe(200);
    expect(JSON.parse(tall.text).preprocessing.resized).toEqual({
      from: [8192, 2],
      to: [28, 28],
      mode: 'bilinear',
    });
    expect(tall.ms).toBeLessThan(1000);
  }, 60_000);
});

// The server under test as a child process of bench/serve.ts: `bun src/serve/bun.ts --port 0 …`, its URL and
// model read from the banner line, its output drained (a full pipe would stall it), and a clean stop.
import { join } from 'node:path';

const ROOT = join(import.meta.dir, '..');
export const SERVER_ENTRY = 'src/serve/bun.ts';
/** "hashguard serving NAME (backend B[, random GI], scores S) at URL (workers N, …": see src/serve/start.ts. */
const BANNER =
  /^hashguard serving (\S+) \(backend ([^,)]+)(?:, random GI)?, scores \w+\) at (http:\/\/\S+) \(workers (\d+)/;

export interface ServerChild {
  banner: string;
  /** The server's process id (bench/memory.ts reads its /proc/<pid>/status). */
  pid: number;
  url: string;
  model: string;
  backend: string;
  workers: number;
  /** The child's exit code, or null while it runs. */
  exitCode(): number | null;
  /** SIGTERM, then SIGKILL after 10 s; resolves with the exit code (idempotent). */
  stop(): Promise<number | null>;
  /** The last few kB of its stderr (for error messages). */
  stderrTail(): string;
}

async function pump(
  stream: ReadableStream<Uint8Array>,
  onText: (text: string) => void,
): Promise<void> {
  const reader = stream.getReader(),
    decoder = new TextDecoder();
  for (let r = await reader.read(); !r.done; r = await reader.read())
    onText(decoder.decode(r.value, { stream: true }));
}

/** Starts the server with `flags` and waits (at most startupMs) for its banner; throws if it exits first. */
export async function startServer(flags: string[], startupMs = 60_000): Promise<ServerChild> {
  const proc = Bun.spawn([process.execPath, join(ROOT, SERVER_ENTRY), ...flags], {
    cwd: ROOT,
    stdout: 'pipe',
    stderr: 'pipe',
    env: { ...process.env },
  });
  let out = '',
    err = '';
  const keep = (s: string) => s.slice(-8000);
  let stopping: Promise<number | null> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      let grace: ReturnType<typeof setTimeout> | undefined;
      const code = await Promise.race([
        proc.exited,
        new Promise<null>((r) => (grace = setTimeout(() => r(null), 10_000))),
      ]);
      clearTimeout(grace); // a pending timer would keep this process alive
      if (code !== null) return code;
      proc.kill('SIGKILL');
      return proc.exited;
    })());
  let timer: ReturnType<typeof setTimeout> | undefined;
  const line = new Promise<string>((resolve, reject) => {
    void pump(proc.stdout, (t) => {
      out = keep(out + t);
      const found = out.split('\n').find((l) => BANNER.test(l));
      if (found) resolve(found);
    });
    void pump(proc.stderr, (t) => void (err = keep(err + t)));
    void proc.exited.then((code) =>
      reject(new Error(`server exited with code ${code} before listening:\n${err || out}`)),
    );
    timer = setTimeout(
      () =>
        reject(new Error(`no server banner within ${startupMs} ms; output so far:\n${out}${err}`)),
      startupMs,
    );
  });
  try {
    const banner = await line;
    const [, model, backend, url, workers] = BANNER.exec(banner)!;
    return {
      banner,
      pid: proc.pid,
      url,
      model,
      backend,
      workers: Number(workers),
      exitCode: () => proc.exitCode,
      stop,
      stderrTail: () => err,
    };
  } catch (e) {
    await stop();
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

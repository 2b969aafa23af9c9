// The PyTorch peer from TypeScript: finds a Python that imports torch and onnx (Debian's python3-torch lives under
// /usr/bin/python3, not a pyenv shim), starts bench/peers/torch-peer.py as a long-lived child and speaks its JSON-lines
// protocol: one request at a time, each answered by one line. Missing torch is a stated reason, never an exception.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const SCRIPT = join(import.meta.dir, 'torch-peer.py');
/** Interpreters tried in order; HASHGUARD_TORCH_PYTHON, when set, is the only one tried. */
export const PYTHON_CANDIDATES = ['/usr/bin/python3', 'python3'];
/** The command that installs what the peer needs on Debian (bun run bench:setup runs it where it can). */
export const TORCH_INSTALL = 'apt-get install -y python3-torch python3-onnx libopenblas0-openmp';

/** What the peer reports about itself (its `hello` answer). */
export interface TorchInfo {
  torch: string;
  python: string;
  numpy: string;
  onnx: string;
  executable: string;
  /** The BLAS library torch's process mapped: Debian's reference BLAS leaves Linear layers unoptimized. */
  blas: string;
  mkldnn: boolean;
  parallel: string;
}

/** The first interpreter that imports torch and onnx, or why none does (each candidate's last error line). */
export function findTorchPython(): { python: string } | { reason: string } {
  const env = process.env.HASHGUARD_TORCH_PYTHON;
  const tried: string[] = [];
  for (const python of env ? [env] : PYTHON_CANDIDATES) {
    const r = spawnSync(python, ['-c', 'import torch, onnx, numpy'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (r.status === 0) return { python };
    const why = r.error
      ? r.error.message
      : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`);
    tried.push(`${python}: ${why}`);
  }
  return {
    reason: `no Python with torch and onnx (${tried.join('; ')}); install with \`${TORCH_INSTALL}\` (bun run bench:setup)`,
  };
}

/** A running peer. `request` rejects with the peer's error message when it answers ok: false. */
export interface TorchPeer {
  info: TorchInfo;
  python: string;
  request<T = Record<string, unknown>>(msg: Record<string, unknown>): Promise<T>;
  close(): Promise<void>;
}

/** Starts the peer with `python` (its environment plus `env`, e.g. OMP_WAIT_POLICY) and waits for its hello. */
export async function startTorchPeer(
  python: string,
  env: Record<string, string> = {},
): Promise<TorchPeer> {
  const proc = Bun.spawn([python, '-u', SCRIPT], {
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', ...env },
  });
  let err = '';
  const waiting: ((line: string) => void)[] = [];
  let failed: Error | null = null;
  const fail = (e: Error) => {
    failed ??= e;
    for (const w of waiting.splice(0)) w('');
  };
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) err = (err + decoder.decode(chunk)).slice(-4000);
  })();
  void (async () => {
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of proc.stdout) {
      buf += decoder.decode(chunk, { stream: true });
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        waiting.shift()?.(line);
      }
    }
    fail(
      new Error(`the torch peer exited (code ${await proc.exited}): ${err.trim().slice(-1500)}`),
    );
  })();
  let id = 0;
  let queue: Promise<unknown> = Promise.resolve();
  const send = <T>(msg: Record<string, unknown>): Promise<T> => {
    const turn = queue.then(async () => {
      if (failed) throw failed;
      const line = new Promise<string>((r) => waiting.push(r));
      proc.stdin.write(JSON.stringify({ ...msg, id: ++id }) + '\n');
      proc.stdin.flush();
      const text = await line;
      if (failed && !text) throw failed;
      const answer = JSON.parse(text) as { ok: boolean; error?: string } & T;
      if (!answer.ok) throw new Error(`torch peer, ${String(msg.op)}: ${answer.error}`);
      return answer;
    });
    queue = turn.catch(() => {});
    return turn;
  };
  const {
    ok: _ok,
    id: _id,
    ...info
  } = await send<TorchInfo & { ok: boolean; id: number }>({
    op: 'hello',
  });
  return {
    info,
    python,
    request: send,
    async close() {
      if (proc.exitCode === null) {
        proc.stdin.write(JSON.stringify({ op: 'quit' }) + '\n');
        proc.stdin.end();
        const timer = setTimeout(() => proc.kill(), 5000);
        await proc.exited;
        clearTimeout(timer);
      }
    },
  };
}

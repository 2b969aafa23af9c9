// Web Workers in every runtime: the global Worker where there is one (Bun, Deno, browsers), and in Node, which has
// none, node:worker_threads behind the same small interface. Both sides live here: startWorker for the pool,
// workerScope for the worker script (the global scope, or Node's parent port dressed as one).

/** The part of the Web Worker API the pool uses. */
export interface WorkerHandle {
  onmessage: ((e: { data: unknown }) => void) | null;
  onerror: ((e: { message: string; preventDefault?(): void }) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
  terminate(): void;
}

/** The part of a worker's global scope a worker script uses. */
export interface WorkerScope {
  onmessage: ((e: { data: unknown }) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
}

type Listener = (value: unknown) => void;
interface NodePort {
  on(event: string, fn: Listener): unknown;
  postMessage(message: unknown, transfer?: readonly unknown[]): void;
}
interface WorkerThreads {
  Worker: new (url: URL) => NodePort & { terminate(): unknown; unref(): unknown };
  parentPort: NodePort | null;
  isMainThread: boolean;
}
type Globals = {
  Worker?: new (url: string | URL, options: { type: 'module' }) => WorkerHandle;
  process?: { getBuiltinModule?(id: string): unknown };
};

/** node:worker_threads, loaded without an import (so bundles for browsers never see it); null outside Node. */
function workerThreads(): WorkerThreads | null {
  const load = (globalThis as Globals).process?.getBuiltinModule;
  return load ? ((load('node:worker_threads') as WorkerThreads | undefined) ?? null) : null;
}

/**
 * Starts the module worker at `url`. NOTE: Node's worker runs the same script, whose workerScope() then
 * answers through the parent port; Node before 20.16 (no process.getBuiltinModule) gets a clear error.
 */
export function startWorker(url: string | URL): WorkerHandle {
  const Web = (globalThis as Globals).Worker;
  if (Web) return new Web(url, { type: 'module' });
  const threads = workerThreads();
  if (!threads)
    throw new Error('no Worker in this runtime (Node needs 20.16 or newer for worker threads)');
  const worker = new threads.Worker(typeof url === 'string' ? new URL(url) : url);
  const handle: WorkerHandle = {
    onmessage: null,
    onerror: null,
    postMessage: (message, transfer) => worker.postMessage(message, transfer),
    terminate: () => void worker.terminate(),
  };
  worker.on('message', (data) => handle.onmessage?.({ data }));
  worker.on('error', (e) => handle.onerror?.({ message: (e as Error)?.message ?? String(e) }));
  return handle;
}

/** Whether this code runs in a worker thread, not a process's main thread (Bun, Node and Deno answer it alike). */
export function inWorkerThread(): boolean {
  const threads = workerThreads();
  if (threads) return !threads.isMainThread;
  return typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined';
}

/** The running worker's scope: `self` in a Web Worker, Node's parent port in a worker thread. */
export function workerScope(): WorkerScope {
  const self = (globalThis as { self?: WorkerScope }).self;
  if (self && typeof self.postMessage === 'function') return self;
  const port = workerThreads()?.parentPort;
  if (!port) throw new Error('workerScope: not running in a worker');
  const scope: WorkerScope = {
    onmessage: null,
    postMessage: (message, transfer) => port.postMessage(message, transfer),
  };
  port.on('message', (data) => scope.onmessage?.({ data }));
  return scope;
}

// A worker that runs one exported function of a test module (in-workers.ts starts it): receives
// { module, fn, args }, answers { result } or { error }. Arguments and results must be structured-cloneable.
const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent) => void) | null;
  postMessage(m: unknown): void;
};
scope.onmessage = async (e: MessageEvent) => {
  const { module, fn, args } = e.data as { module: string; fn: string; args: unknown };
  try {
    const f = (await import(module))[fn];
    if (typeof f !== 'function') throw new Error(`${module} exports no function '${fn}'`);
    scope.postMessage({ result: await f(args) });
  } catch (err) {
    scope.postMessage({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
};

// The modules the Worker entry (worker.ts) imports: from beside itself in dist/worker/, where `bun run build:worker`
// writes them (workerd and wrangler hand a .wasm over compiled, a Data module as an ArrayBuffer, JSON parsed),
// and the platform's own cloudflare:workers, of which only the Durable Object base class is used.
declare module '*/kernels.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
declare module '*/weights.safetensors' {
  const bytes: ArrayBuffer;
  export default bytes;
}
declare module '*/model.json' {
  const manifest: unknown;
  export default manifest;
}
declare module 'cloudflare:workers' {
  /** Durable Objects extend it; the platform constructs them with their state (ctx) and bindings (env). */
  export abstract class DurableObject {
    protected readonly ctx: unknown;
    protected readonly env: unknown;
    constructor(ctx: unknown, env: unknown);
  }
}

// The few Deno APIs the Deno entries use (deno.ts, deno-deploy.ts), typed here once: the project typechecks
// against Bun's types only. Types alone: the entries read the global `Deno` themselves.
export interface DenoApi {
  args: string[];
  env: { toObject(): Record<string, string> };
  exit(code: number): never;
  addSignalListener(signal: 'SIGINT' | 'SIGTERM', handler: () => void): void;
  serve(
    options: {
      hostname: string;
      port: number;
      onListen?: (addr: { hostname: string; port: number }) => void;
    },
    handler: (
      req: Request,
      info: { remoteAddr: { hostname: string } },
    ) => Response | Promise<Response>,
  ): { shutdown(): Promise<void>; finished: Promise<void> };
}

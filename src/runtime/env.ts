// Environment variables in Bun, Node and Deno, and nothing (undefined) in a browser or an edge worker: the one
// reader of the environment, guarded so that code calling it runs anywhere.

type Globals = {
  process?: { env?: Record<string, string | undefined> };
  Deno?: { env: { get(n: string): string | undefined; toObject(): Record<string, string> } };
};

/** Environment variable in Bun, Node or Deno; undefined where absent, not permitted (Deno without --allow-env) or no runtime has one. */
export function readEnv(name: string): string | undefined {
  const g = globalThis as Globals;
  try {
    return g.process?.env?.[name] ?? g.Deno?.env.get(name);
  } catch {
    return undefined;
  }
}

/** The whole environment as a record (a server's flags read several names); {} where there is none. */
export function readEnvAll(): Record<string, string | undefined> {
  const g = globalThis as Globals;
  try {
    return { ...(g.process?.env ?? g.Deno?.env.toObject() ?? {}) };
  } catch {
    return {};
  }
}

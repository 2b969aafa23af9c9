// Deno entry, same app and flags as bun.ts:
//   npx deno run --allow-net --allow-read --allow-env src/serve/deno.ts [flags]
// Deno resolves hono and zod from node_modules through package.json (run `npm ci` first).
import { serveOnDeno, type DenoApi } from './deno-api.ts';
import { startEntry } from './start.ts';

declare const Deno: DenoApi;

await serveOnDeno(
  Deno,
  await startEntry(Deno.args, Deno.env.toObject(), (code) => Deno.exit(code)),
);

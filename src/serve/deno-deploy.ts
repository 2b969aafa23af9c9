// Deno Deploy entry: the default model embedded in the code (no file access at run time), inference in this
// isolate on the CPU kernels (Deploy runs no worker threads), listening with Deno.serve on $PORT (default 8000):
//   npx deno run --allow-net --allow-env src/serve/deno-deploy.ts [flags]   (docs/deploy.md)
import { serveOnDeno, type DenoApi } from './deno-api.ts';
import { DEFAULT_EMBEDDED_MODEL, loadEmbeddedModel } from './embedded/index.ts';
import { inProcessExecutor } from './executor.ts';
import { startEntry } from './start.ts';

declare const Deno: DenoApi;

// The embedded model is the only one: a --model would need the file access this entry goes without.
if (Deno.args.some((a) => a === '--model' || a.startsWith('--model='))) {
  console.error(
    'error: deno-deploy.ts serves its embedded model only; src/serve/deno.ts takes --model',
  );
  Deno.exit(2);
}
const name = DEFAULT_EMBEDDED_MODEL.name;
const model = await loadEmbeddedModel(DEFAULT_EMBEDDED_MODEL).catch((e: Error) => {
  console.error(`error: ${e.message}`);
  return Deno.exit(1);
});
// Deploy's conventions: any interface, port 8000, unless HOST / PORT (or --host / --port) say otherwise.
const env = { HOST: '0.0.0.0', PORT: '8000', ...Deno.env.toObject() };
const started = await startEntry(
  Deno.args,
  env,
  (code) => Deno.exit(code),
  (c) => ({
    ...c,
    options: {
      ...c.options,
      // --scores NAME=MODE still applies (the flag parser saw the default model under the same name).
      models: { [name]: { model, scores: c.options.models[name]?.scores } },
      // NOTE: compute blocks this isolate's event loop while a request runs, so a deadline cannot cut a
      // running inference short; it still refuses requests that waited past it.
      executor: inProcessExecutor(),
      // The page's scripts and the audit reports are files: neither is deployed (docs/deploy.md).
      demo: false,
    },
  }),
);
// Deploy stops isolates itself and may not offer signal listeners; a local run stops gracefully on Ctrl-C.
await serveOnDeno(Deno, started, true);

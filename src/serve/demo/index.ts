// GET / (the demo page), GET /demo/page.js and /demo/worker.js (its scripts, assets.ts), and the served models'
// files, GET /v2/models/{m}/model.json and /weights.safetensors, from which the page's worker makes its local
// copy. Files pass the inference routes' gates: ready (and audited), a valid bearer where keys are issued, not banned.
import { Hono, type Context } from 'hono';
import { encodeModel, type LoadedModel } from '../../nn/index.ts';
import { clientAddress, clientIdentity } from '../budget/index.ts';
import type { ServeContext, ServeEnv } from '../context.ts';
import { HttpError } from '../errors.ts';
import type { DemoOptions } from '../options.ts';
import type { ServedModel } from '../registry.ts';
import { reportPath, servedAudit } from '../robustness/index.ts';
import { DemoAssets } from './assets.ts';
import { DEMO_SCRIPTS } from './bundle.ts';
import { demoPage, PAGE_CSP } from './html.ts';
import type { DemoConfig } from './protocol.ts';

export {
  bundleDemo,
  noDawnInBrowsers,
  DEMO_SCRIPTS,
  type BrowserBundler,
  type DemoScripts,
} from './bundle.ts';
export { drawingToInput } from './preprocess.ts';
export { NOT_BUILT } from './assets.ts';

type Ready = ServedModel & { loaded: LoadedModel };

/** Why a model's files are not published (null: they are). */
function filesRefusal(m: Ready, published: boolean): string | null {
  if (!published) return 'this server does not publish model files (--no-model-files)';
  const p = m.loaded.manifest.provenance as { hash?: { secretSeeds?: unknown } } | undefined;
  if (p?.hash?.secretSeeds === true)
    return `model '${m.name}' was trained with secret hash seeds: its files are not published`;
  return null;
}

/** The gates of inference a file download passes too: 401 for a bearer that is no issued key, 403 while banned. */
async function admitClient(ctx: ServeContext, c: Context<ServeEnv>): Promise<void> {
  if (!ctx.budget && !ctx.detector) return;
  const identity = await clientIdentity(
    c.req.header('authorization'),
    clientAddress(c.env?.clientAddress, c.req.header('x-forwarded-for'), ctx.trustedProxies),
    ctx.apiKeys ? await ctx.apiKeys : null,
  );
  if (ctx.detector) await ctx.detector.admit(await ctx.detector.key(identity));
}

/** The page's view of every served model. */
async function pageConfig(ctx: ServeContext, published: boolean): Promise<DemoConfig> {
  const models = await Promise.all(
    ctx.models.all().map(async (m) => {
      if (m.state !== 'ready' || !m.loaded)
        return { name: m.name, ready: false, filesRefused: null, audit: null };
      const r = m as Ready;
      const found = await servedAudit(ctx, r);
      const report = found && (await reportPath(ctx, found.audit));
      return {
        name: m.name,
        ready: true,
        filesRefused: filesRefusal(r, published),
        audit: found && {
          file: found.audit.file,
          configuration: found.configuration,
          report: report ? `/v2/models/${encodeURIComponent(m.name)}/robustness/report` : null,
        },
      };
    }),
  );
  return { models };
}

export function demoRoutes(
  ctx: ServeContext,
  options: DemoOptions,
  log: (message: string) => void,
): Hono<ServeEnv> {
  const app = new Hono<ServeEnv>();
  const assets = new DemoAssets(options.dir ?? 'dist/demo', options.build, log);
  const published = options.modelFiles ?? true;
  // The files as served: encoded once from the loaded model (exactly the weights that answer queries).
  const files = new WeakMap<LoadedModel, ReturnType<typeof encodeModel>>();

  app.get('/', async (c) => {
    const source = await assets.get();
    const page = demoPage(
      await pageConfig(ctx, published),
      'missing' in source ? source.missing : null,
    );
    return c.html(page, 200, { 'Content-Security-Policy': PAGE_CSP, 'Cache-Control': 'no-cache' });
  });
  for (const name of DEMO_SCRIPTS) {
    app.get(`/demo/${name}`, async (c) => {
      const source = await assets.get();
      if ('missing' in source) throw new HttpError(404, source.missing);
      return c.body(source.scripts[name], 200, {
        'Content-Type': 'text/javascript; charset=utf-8',
        'Cache-Control': 'no-cache',
      });
    });
  }
  const modelFile =
    (file: 'model.json' | 'weights.safetensors') => async (c: Context<ServeEnv>) => {
      const m = ctx.models.requireReady(c.req.param('name')!);
      await ctx.auditGate?.assertAudited(m);
      const refused = filesRefusal(m, published);
      if (refused) throw new HttpError(published ? 403 : 404, refused);
      await admitClient(ctx, c);
      let encoded = files.get(m.loaded);
      if (!encoded)
        files.set(m.loaded, (encoded = encodeModel(m.loaded.manifest, m.loaded.network.params)));
      const { manifestJson, weights } = await encoded;
      return file === 'model.json'
        ? c.body(manifestJson, 200, { 'Content-Type': 'application/json; charset=utf-8' })
        : c.body(weights as Uint8Array<ArrayBuffer>, 200, {
            'Content-Type': 'application/octet-stream',
          });
    };
  app.get('/v2/models/:name/model.json', modelFile('model.json'));
  app.get('/v2/models/:name/weights.safetensors', modelFile('weights.safetensors'));
  return app;
}

// GET /v2/models/{m} (OIP v2 model metadata, plus what a client of a defended model should know: the
// defense spec, the backend that really runs it, the weights' sha256, the batch and body limits a client must
// split its requests by, whether certificates are served) and GET /v2/models/{m}/ready.
import { Hono } from 'hono';
import type { ServeContext, ServeEnv } from '../context.ts';
import { certificatesOffered, INPUT_NAME, servedOutputs } from '../infer/index.ts';
import { modelVersion } from '../registry.ts';
import { inputBackground } from '../../nn/index.ts';

export function metadataRoutes(ctx: ServeContext): Hono<ServeEnv> {
  const app = new Hono<ServeEnv>();
  app.get('/v2/models/:name', (c) => {
    const m = ctx.models.requireReady(c.req.param('name'));
    const { manifest, network } = m.loaded;
    const classes = manifest.classes.length;
    return c.json({
      name: m.name,
      versions: [modelVersion(m)],
      platform: 'hashguard',
      inputs: [
        {
          name: INPUT_NAME,
          datatype: 'FP32',
          shape: [-1, ...network.inputShape],
          parameters: {
            range: manifest.input.range,
            background: inputBackground(manifest),
            acceptsUint8: true,
            maxBatch: ctx.limits.maxBatch,
            maxBodyBytes: ctx.limits.maxBodyBytes,
          },
        },
      ],
      outputs: servedOutputs(m).map((name) =>
        name === 'labels'
          ? { name, datatype: 'INT64', shape: [-1] }
          : { name, datatype: 'FP32', shape: [-1, classes] },
      ),
      classes: manifest.classes,
      defense: m.spec,
      randomized: m.random !== null,
      backend: m.backend,
      weightsSha256: manifest.weights.sha256,
      // Where parameters.certify is served: the methods and the per-request budget (infer/certify.ts).
      certificates: certificatesOffered(m),
    });
  });
  app.get('/v2/models/:name/ready', async (c) => {
    const m = ctx.models.requireReady(c.req.param('name'));
    await ctx.auditGate?.assertAudited(m);
    return c.json({ name: m.name, ready: true });
  });
  return app;
}

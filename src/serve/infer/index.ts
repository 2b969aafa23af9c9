// POST /v2/models/{m}/infer (Open Inference Protocol v2, JSON): labels (INT64) always; scores only where the
// model's serving config allows them, because scores make score-based attacks far cheaper; with
// parameters.certify, each row's certified radius (certify.ts).
import { Hono } from 'hono';
import { parseJson, readBody, requireMediaType } from '../body.ts';
import { argmaxRows, infer, softmaxRows, type ServeContext, type ServeEnv } from '../context.ts';
import { HttpError } from '../errors.ts';
import { modelVersion, type ServedModel } from '../registry.ts';
import { certificateParameters, certifyRequest } from './certify.ts';
import { decodeInput, parseInferRequest } from './schema.ts';

export { INPUT_NAME } from './schema.ts';
export { certificatesOffered } from './certify.ts';

/** Output tensors a model serves: 'labels', plus its scores output when allowed. */
export function servedOutputs(m: Pick<ServedModel, 'scores'>): string[] {
  return m.scores === 'none' ? ['labels'] : ['labels', m.scores];
}

export function inferRoutes(ctx: ServeContext): Hono<ServeEnv> {
  const app = new Hono<ServeEnv>();
  app.post('/v2/models/:name/infer', async (c) => {
    const m = ctx.models.requireReady(c.req.param('name'));
    requireMediaType(c.req.header('content-type'), ['application/json']);
    // Shed before reading and parsing the body: under overload a 503 must not wait behind JSON work.
    ctx.scheduler.assertRoom();
    const req = parseInferRequest(parseJson(await readBody(c.req.raw, ctx.limits.maxBodyBytes)));
    const served = servedOutputs(m);
    const wanted = req.outputs?.map((o) => o.name) ?? served;
    for (const name of wanted) {
      if (!served.includes(name))
        throw new HttpError(
          400,
          `output '${name}' is not served by this deployment (served: ${served.join(', ')})`,
        );
    }
    const certify = certifyRequest(req.parameters?.certify, m);
    const { x, n } = decodeInput(
      req.inputs[0],
      m.loaded.network.inputShape,
      m.loaded.manifest.input.range,
      ctx.limits.maxBatch,
    );
    let certificates: Parameters<typeof certificateParameters>[1] | undefined;
    const logits = await infer(
      ctx,
      c,
      m,
      { x, n, ...(certify ? { certify } : {}) },
      n,
      (answer) => (certificates = answer.certificates),
    );
    const k = logits.length / n;
    const outputs = wanted.map((name) => {
      if (name === 'labels')
        return { name, datatype: 'INT64', shape: [n], data: argmaxRows(logits, n) };
      const data = name === 'probabilities' ? softmaxRows(logits, n) : Array.from(logits);
      return { name, datatype: 'FP32', shape: [n, k], data };
    });
    return c.json({
      model_name: m.name,
      model_version: modelVersion(m),
      ...(req.id !== undefined ? { id: req.id } : {}),
      ...(certify && certificates
        ? { parameters: certificateParameters(certify, certificates) }
        : {}),
      outputs,
    });
  });
  return app;
}

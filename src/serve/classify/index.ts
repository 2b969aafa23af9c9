// POST /v1/models/{m}:classify with an image/png or image/jpeg body of any dimensions (within the size limits):
// a worker decodes it, inverts it when its polarity contradicts the model's input background, converts it to
// the model's channels and resizes it to H×W in [0, 1]; the answer is one label and what was applied.
import { Hono } from 'hono';
import { sniffImageFormat } from '../../data/index.ts';
import { inputBackground } from '../../nn/index.ts';
import type { ImagePreprocessing } from '../../parallel/index.ts';
import { readBody, requireMediaType } from '../body.ts';
import { argmaxRows, infer, softmaxRows, type ServeContext, type ServeEnv } from '../context.ts';
import { HttpError } from '../errors.ts';

export const IMAGE_TYPES = ['image/png', 'image/jpeg'] as const;

export function classifyRoutes(ctx: ServeContext): Hono<ServeEnv> {
  const app = new Hono<ServeEnv>();
  // NOTE: ':classify' sits inside the path segment (Google-style custom method), so the whole segment is
  // one parameter and the suffix is checked here.
  app.post('/v1/models/:target', async (c) => {
    const target = c.req.param('target');
    if (!target.endsWith(':classify'))
      throw new HttpError(404, `not found: POST ${c.req.path.slice(0, 200)}`);
    const m = ctx.models.requireReady(target.slice(0, -':classify'.length));
    requireMediaType(c.req.header('content-type'), IMAGE_TYPES);
    const [channels] = m.loaded.network.inputShape;
    if (m.loaded.network.inputShape.length !== 3 || (channels !== 1 && channels !== 3)) {
      throw new HttpError(
        400,
        `model '${m.name}' does not take images (input [${m.loaded.network.inputShape.join(', ')}])`,
      );
    }
    ctx.scheduler.assertRoom(); // shed before reading the body (see infer)
    const bytes = await readBody(c.req.raw, ctx.limits.maxImageBytes);
    // The magic-byte check is cheap; decoding (and its errors) happen in the worker.
    if (!sniffImageFormat(bytes))
      throw new HttpError(400, 'request body is not a PNG or JPEG image');
    // Size limits travel with the image: the worker checks them from the header before decoding (413).
    const { maxImagePixels: maxPixels, maxImageSide: maxSide } = ctx.limits;
    let preprocessing: ImagePreprocessing | undefined;
    const logits = await infer(
      ctx,
      c,
      m,
      { image: bytes, maxPixels, maxSide, background: inputBackground(m.loaded.manifest) },
      1,
      (answer) => (preprocessing = answer.preprocessing),
    );
    const [label] = argmaxRows(logits, 1);
    const scores =
      m.scores === 'probabilities'
        ? { probabilities: softmaxRows(logits, 1) }
        : m.scores === 'logits'
          ? { logits: Array.from(logits) }
          : {};
    return c.json({ label, class: m.loaded.manifest.classes[label], ...scores, preprocessing });
  });
  return app;
}

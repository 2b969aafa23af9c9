// GET /openapi.json: a hand-written OpenAPI 3.1 description of the server's routes. Hand-written on purpose
// (no generator, STYLE "no generated code"); test/serve checks that every route the app serves is listed.
import { Hono } from 'hono';
import type { ServeContext, ServeEnv } from '../context.ts';

const err = (description: string, retry = false) => ({
  description,
  ...(retry
    ? {
        headers: {
          'Retry-After': {
            description: 'Seconds to wait before retrying.',
            schema: { type: 'integer', minimum: 1 },
          },
        },
      }
    : {}),
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});
const json = (description: string, schema: object) => ({
  description,
  content: { 'application/json': { schema } },
});
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const model = {
  name: 'model',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'Served model name.',
};
const common = { 404: err('Unknown model.'), 503: err('Model not ready.', true) };
const inferErrors = {
  400: err('Malformed JSON, invalid body, wrong shape, dtype or value, or batch above the limit.'),
  ...common,
  401: err(
    'An Authorization header that is not an issued API key (only where keys are configured; nothing is charged).',
  ),
  413: err('Body larger than the limit (checked from Content-Length and while reading).'),
  403: err(
    "Query attack detected: the client's queries kept repeating near-copies of its earlier ones; refused for the ban period (code 'query_attack_detected').",
    true,
  ),
  415: err('Wrong Content-Type.'),
  429: err("The client's query budget for this window is spent.", true),
  503: err(
    'Model not ready, queue full, deadline exceeded, or budget or detector store down.',
    true,
  ),
};

const modelFileErrors = {
  ...common,
  401: inferErrors[401],
  403: err(
    "The client is banned by the query-attack detector, or the model's hash seeds are secret (its files are never published).",
  ),
  404: err('Unknown model, or this server does not publish model files.'),
};
const demoScript = (summary: string) => ({
  summary,
  responses: {
    200: {
      description: 'An ES module.',
      content: { 'text/javascript': { schema: { type: 'string' } } },
    },
    404: err('The script bundle is not built (npm run build:package; Bun builds it itself).'),
  },
});

/** The OpenAPI document (limits are shown with their configured values). */
export function openApiDocument(ctx: Pick<ServeContext, 'limits'>): object {
  const { maxBatch, maxBodyBytes, maxImageBytes, maxImagePixels, maxImageSide, deadlineMs } =
    ctx.limits;
  return {
    openapi: '3.1.0',
    info: {
      title: 'hashguard inference server',
      version: '0.1.0',
      description: `Open Inference Protocol v2 subset serving hash-compressed, gradient-inhibited classifiers. Labels only unless a deployment allows scores. Limits: batch ≤ ${maxBatch}, JSON body ≤ ${maxBodyBytes} bytes, image body ≤ ${maxImageBytes} bytes, image ≤ ${maxImagePixels} pixels and ≤ ${maxImageSide} pixels a side (read from the PNG/JPEG header before decoding), deadline ${deadlineMs} ms. Each image counts one query against the client's budget (bearer key, else address).`,
    },
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'Optional: names the query budget.',
        },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: { type: 'string' },
            code: {
              type: 'string',
              description: "A stable identifier where one applies, e.g. 'query_attack_detected'.",
            },
          },
        },
        Tensor: {
          type: 'object',
          required: ['name', 'shape', 'datatype', 'data'],
          properties: {
            name: { type: 'string', const: 'input' },
            shape: {
              type: 'array',
              items: { type: 'integer', minimum: 0 },
              description: "[N, C, H, W] with C, H, W the model's.",
            },
            datatype: {
              enum: ['FP32', 'UINT8'],
              description: 'FP32 in the model input range; UINT8 0–255 scaled by 1/255.',
            },
            data: {
              type: 'array',
              description: 'Row-major flat values, or arrays nested to the shape.',
            },
            parameters: { type: 'object' },
          },
        },
        InferRequest: {
          type: 'object',
          required: ['inputs'],
          properties: {
            id: { type: 'string' },
            parameters: {
              type: 'object',
              properties: {
                certify: {
                  oneOf: [{ type: 'boolean' }, { enum: ['ibp', 'crown-ibp'] }],
                  description:
                    "Models trained with --certified: also return each row's certified L∞ radius (true = ibp), by bisection within a per-request compute budget.",
                },
              },
            },
            inputs: { type: 'array', minItems: 1, maxItems: 1, items: ref('Tensor') },
            outputs: {
              type: 'array',
              items: {
                type: 'object',
                required: ['name'],
                properties: { name: { enum: ['labels', 'probabilities', 'logits'] } },
              },
            },
          },
        },
        OutputTensor: {
          type: 'object',
          required: ['name', 'shape', 'datatype', 'data'],
          properties: {
            name: { type: 'string' },
            shape: { type: 'array', items: { type: 'integer' } },
            datatype: { enum: ['INT64', 'FP32'] },
            data: { type: 'array', items: { type: 'number' } },
          },
        },
        InferResponse: {
          type: 'object',
          required: ['model_name', 'outputs'],
          properties: {
            model_name: { type: 'string' },
            model_version: { type: 'string' },
            id: { type: 'string' },
            parameters: {
              type: 'object',
              description:
                'With parameters.certify: certified_radius per row (null where the budget ran out) and certificate (method, norm, input_range, not_certified_at, budget_ms, spent_ms, promise).',
              properties: {
                certified_radius: { type: 'array', items: { type: ['number', 'null'] } },
                certificate: { type: 'object' },
              },
            },
            outputs: { type: 'array', items: ref('OutputTensor') },
          },
        },
        ClassifyResponse: {
          type: 'object',
          required: ['label', 'class', 'preprocessing'],
          properties: {
            label: { type: 'integer' },
            class: { type: 'string' },
            probabilities: { type: 'array', items: { type: 'number' } },
            logits: { type: 'array', items: { type: 'number' } },
            preprocessing: ref('Preprocessing'),
          },
        },
        Preprocessing: {
          type: 'object',
          required: ['resized', 'channels', 'background', 'borderMean', 'inverted'],
          description:
            'What the server did to the image before inference, in order: invert (if its polarity contradicts the model background), convert to the model channels, resize.',
          properties: {
            resized: {
              type: 'object',
              required: ['from', 'to', 'mode'],
              properties: {
                from: {
                  type: 'array',
                  items: { type: 'integer' },
                  minItems: 2,
                  maxItems: 2,
                  description: 'Image [height, width].',
                },
                to: {
                  type: 'array',
                  items: { type: 'integer' },
                  minItems: 2,
                  maxItems: 2,
                  description: 'Model input [H, W].',
                },
                mode: {
                  enum: ['area', 'bilinear', 'none'],
                  description:
                    "'area' when shrinking, 'bilinear' when enlarging, 'none' when the sizes match.",
                },
              },
            },
            channels: { enum: [1, 3], description: '1: BT.601 luma; 3: RGB. Alpha is dropped.' },
            background: {
              enum: ['dark', 'light', 'any'],
              description:
                "The model's input background (model.json input.background): 'dark' = light strokes on black, as MNIST.",
            },
            borderMean: {
              type: 'number',
              minimum: 0,
              maximum: 1,
              description: "Mean luma of the image's 1-pixel border.",
            },
            inverted: {
              type: 'boolean',
              description:
                "True when the image was inverted (v → 1 − v): a 'dark' model given a border mean > 0.5, or a 'light' model given one < 0.5.",
            },
          },
        },
        ModelMetadata: {
          type: 'object',
          required: ['name', 'versions', 'platform', 'inputs', 'outputs'],
          properties: {
            name: { type: 'string' },
            versions: { type: 'array', items: { type: 'string' } },
            platform: { const: 'hashguard' },
            inputs: { type: 'array', items: { type: 'object' } },
            outputs: { type: 'array', items: { type: 'object' } },
            classes: { type: 'array', items: { type: 'string' } },
            defense: { type: ['object', 'null'] },
            randomized: { type: 'boolean' },
            backend: { type: 'string' },
            weightsSha256: { type: 'string' },
            certificates: {
              type: ['object', 'null'],
              description:
                'For models trained with --certified: parameters.certify is served (norm, methods, budgetMs); null otherwise.',
            },
          },
        },
      },
    },
    security: [{}, { bearer: [] }],
    paths: {
      '/v2/health/live': {
        get: {
          summary: 'Liveness',
          responses: {
            200: json('Alive.', { type: 'object', properties: { live: { const: true } } }),
          },
        },
      },
      '/v2/health/ready': {
        get: {
          summary: 'Readiness of every model and the workers',
          responses: {
            200: json('Ready.', { type: 'object', properties: { ready: { const: true } } }),
            503: err('Not ready.', true),
          },
        },
      },
      '/v2/models/{model}': {
        get: {
          summary: 'Model metadata',
          parameters: [model],
          responses: { 200: json('Metadata.', ref('ModelMetadata')), ...common },
        },
      },
      '/v2/models/{model}/ready': {
        get: {
          summary: 'Model readiness',
          parameters: [model],
          responses: {
            200: json('Ready.', {
              type: 'object',
              properties: { name: { type: 'string' }, ready: { const: true } },
            }),
            ...common,
          },
        },
      },
      '/v2/models/{model}/infer': {
        post: {
          summary: 'Classify a batch of tensors (OIP v2 JSON)',
          parameters: [model],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: ref('InferRequest') } },
          },
          responses: {
            200: json('Labels, and scores where allowed.', ref('InferResponse')),
            ...inferErrors,
          },
        },
      },
      '/v1/models/{model}:classify': {
        post: {
          summary: 'Classify one PNG or JPEG image of any dimensions',
          parameters: [model],
          requestBody: {
            required: true,
            content: {
              'image/png': { schema: { type: 'string', format: 'binary' } },
              'image/jpeg': { schema: { type: 'string', format: 'binary' } },
            },
          },
          responses: {
            200: json(
              'The label, scores where allowed, and the preprocessing applied.',
              ref('ClassifyResponse'),
            ),
            ...inferErrors,
            400: err(
              'Not a decodable PNG or JPEG (corrupt, truncated, zero width or height, image data longer or shorter than its header implies), or the model takes no images.',
            ),
            413: err(
              `Body above ${maxImageBytes} bytes, or an image whose header declares more than ${maxImagePixels} pixels or a side over ${maxImageSide} pixels (refused before decoding; the error names the limit).`,
            ),
          },
        },
      },
      '/v2/models/{model}/robustness': {
        get: {
          summary:
            "Latest audit report for the served weights (matched by sha256: the report's own or any configuration's)",
          parameters: [model],
          responses: {
            200: json(
              "The audit, with the names of the configurations that attacked these weights (`configurations`) and the one whose GI stages are the served model's (`configuration`, or null).",
              { type: 'object' },
            ),
            404: err('Unknown model, or no audit for these weights.'),
            503: common[503],
          },
        },
      },
      '/v2/models/{model}/robustness/report': {
        get: {
          summary:
            "That audit's HTML report (SVG charts; no script), where one was written beside its JSON",
          parameters: [model],
          responses: {
            200: {
              description: 'The report.',
              content: { 'text/html': { schema: { type: 'string' } } },
            },
            404: err('Unknown model, or no HTML report for these weights.'),
            503: common[503],
          },
        },
      },
      '/v2/models/{model}/model.json': {
        get: {
          summary:
            "The served model's model.json, as the demo page's worker loads it (unless the server runs with --no-model-files)",
          parameters: [model],
          responses: {
            200: json('The manifest, carrying the sha256 of weights.safetensors.', {
              type: 'object',
            }),
            ...modelFileErrors,
          },
        },
      },
      '/v2/models/{model}/weights.safetensors': {
        get: {
          summary: "The served model's weights (safetensors), the exact ones that answer queries",
          parameters: [model],
          responses: {
            200: {
              description: 'The weights.',
              content: {
                'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
              },
            },
            ...modelFileErrors,
          },
        },
      },
      '/': {
        get: {
          summary:
            'The demo page: draw or upload a digit, see the label, scores and certificate, attack the model (--no-demo turns it off)',
          responses: {
            200: { description: 'HTML.', content: { 'text/html': { schema: { type: 'string' } } } },
          },
        },
      },
      '/demo/page.js': { get: demoScript("The demo page's script") },
      '/demo/worker.js': {
        get: demoScript(
          "The demo page's worker: the browser-safe core, PGD, Square and HopSkipJump",
        ),
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          responses: {
            200: {
              description: 'Text exposition format 0.0.4.',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
          },
        },
      },
      '/openapi.json': {
        get: {
          summary: 'This document',
          responses: { 200: json('OpenAPI 3.1.', { type: 'object' }) },
        },
      },
    },
  };
}

export function openApiRoutes(ctx: ServeContext): Hono<ServeEnv> {
  const app = new Hono<ServeEnv>();
  const doc = openApiDocument(ctx);
  app.get('/openapi.json', (c) => c.json(doc));
  return app;
}

// The Open Inference Protocol v2 request body (zod) and its one input tensor → Float32Array [N, C, H, W],
// with every check a client can fail answered 400: shape, batch, dtype, nesting, finiteness and range.
import { z } from 'zod';
import { HttpError } from '../errors.ts';

const tensorSchema = z.object({
  name: z.string().max(256),
  shape: z.array(z.number().int().nonnegative()).min(1).max(8),
  datatype: z.enum(['FP32', 'UINT8']),
  // Only 'is an array' here: decodeInput checks every element once; z.array(z.unknown()) would walk and copy
  // tens of thousands of values per request on the request thread first.
  data: z.custom<unknown[]>((v) => Array.isArray(v), { message: 'expected an array' }),
  parameters: z.record(z.string(), z.unknown()).optional(),
});

export const inferRequestSchema = z.object({
  id: z.string().max(256).optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  inputs: z.array(tensorSchema).length(1, { message: 'expected exactly one input tensor' }),
  outputs: z
    .array(
      z.object({
        name: z.string().max(64),
        parameters: z.record(z.string(), z.unknown()).optional(),
      }),
    )
    .max(8)
    .optional(),
});

export type InferRequest = z.infer<typeof inferRequestSchema>;
export type InputTensor = InferRequest['inputs'][number];

/** Validates with zod, or throws 400 naming the first few issues by path. */
export function parseInferRequest(json: unknown): InferRequest {
  const r = inferRequestSchema.safeParse(json);
  if (r.success) return r.data;
  const issues = r.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`);
  throw new HttpError(400, `invalid infer request: ${issues.join('; ')}`);
}

/** The model input tensor's name in metadata and requests. */
export const INPUT_NAME = 'input';

/**
 * The tensor's values as float32 rows [N, ...inputShape]: FP32 as given (finite, within `range`), UINT8
 * integers 0–255 scaled by 1/255. `data` may be flat (row-major) or nested to the tensor's rank.
 */
export function decodeInput(
  t: InputTensor,
  inputShape: readonly number[],
  range: readonly [number, number],
  maxBatch: number,
): { x: Float32Array; n: number } {
  const bad = (msg: string) => new HttpError(400, msg);
  if (t.name !== INPUT_NAME)
    throw bad(`unknown input '${t.name.slice(0, 64)}': expected '${INPUT_NAME}'`);
  const want = `[N, ${inputShape.join(', ')}]`;
  if (t.shape.length !== inputShape.length + 1 || inputShape.some((d, i) => t.shape[i + 1] !== d)) {
    throw bad(`input shape [${t.shape.join(', ')}] does not match ${want}`);
  }
  const n = t.shape[0];
  // Checked before the data is walked, so a huge declared batch costs nothing.
  if (n < 1) throw bad('input batch is empty');
  if (n > maxBatch) throw bad(`batch of ${n} images exceeds the limit of ${maxBatch}`);
  const count = t.shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(count);
  const [lo, hi] = range;
  const put =
    t.datatype === 'UINT8'
      ? (v: unknown, i: number) => {
          if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255)
            throw bad(`UINT8 input: element ${i} is not an integer in [0, 255]`);
          x[i] = v / 255;
        }
      : (v: unknown, i: number) => {
          // NOTE: JSON 1e309 parses to Infinity; NaN cannot be written in JSON but is rejected all the same.
          if (typeof v !== 'number' || !Number.isFinite(v))
            throw bad(`FP32 input: element ${i} is not a finite number`);
          if (v < lo || v > hi)
            throw bad(
              `FP32 input: element ${i} (${v}) is outside the model's input range [${lo}, ${hi}]`,
            );
          x[i] = v;
        };
  const flat = t.data.length === 0 || !Array.isArray(t.data[0]);
  if (flat) {
    if (t.data.length !== count)
      throw bad(
        `input data has ${t.data.length} values; shape [${t.shape.join(', ')}] needs ${count}`,
      );
    for (let i = 0; i < count; i++) put(t.data[i], i);
  } else {
    // Nested arrays must follow the shape exactly; recursion depth is the tensor's rank (≤ 4 here).
    let at = 0;
    const walk = (node: unknown, depth: number, path: string): void => {
      if (depth === t.shape.length) return put(node, at++);
      if (!Array.isArray(node) || node.length !== t.shape[depth]) {
        throw bad(
          `input data${path} must be an array of ${t.shape[depth]} to match shape [${t.shape.join(', ')}]`,
        );
      }
      for (let i = 0; i < node.length; i++) walk(node[i], depth + 1, `${path}[${i}]`);
    };
    walk(t.data, 0, '');
  }
  return { x, n };
}

// model.json (DESIGN §3): its type and schema, checks of weights against layers, and the pure encode/decode
// of a model directory's two files. No file system here; src/io/model-dir.ts reads and writes them.
import { z } from 'zod';
import { Tensor, sameShape, shapeStr } from '../tensor/index.ts';
import { type LayerSpec, layerTensors } from './layer-spec.ts';
import { sha256Hex } from '../hash/index.ts';

export { sha256Hex };
import { ModelFileError, decodeSafetensors, encodeSafetensors } from './safetensors.ts';

export { ModelFileError } from './safetensors.ts';

/** File names inside a model directory. */
export const MANIFEST_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.safetensors';

/**
 * The background a model's training images have: 'dark' (light strokes on black, as MNIST), 'light' (dark
 * strokes on white) or 'any' (photos, CIFAR). Servers use it to flip an upload of the opposite polarity.
 */
export const INPUT_BACKGROUNDS = ['dark', 'light', 'any'] as const;
export type InputBackground = (typeof INPUT_BACKGROUNDS)[number];

/** The parsed contents of model.json. `provenance` and `metrics` may carry extra keys, kept on round trip. */
export type ModelManifest = {
  format: 1;
  name: string;
  /**
   * One image, NCHW without the batch: [C, H, W], values in [0, 1], and the background of the training
   * images (absent in older files: read it with inputBackground, which says 'any').
   */
  input: { shape: [number, number, number]; range: [0, 1]; background?: InputBackground };
  /** Class names; index = label = logit position. */
  classes: string[];
  layers: LayerSpec[];
  /** A DefenseSpec (src/defense) or null for an undefended model; only `stages: []` is checked here. */
  defense: { stages: unknown[]; [extra: string]: unknown } | null;
  /** `dataset.sha256` is '' for synthetic data (no source files). */
  provenance: {
    dataset: { name: string; sha256: string; [extra: string]: unknown };
    seed: number;
    epochs: number;
    command: string;
    [extra: string]: unknown;
  };
  /** `testAccuracy` is a fraction in [0, 1] over `testCount` test examples (the full test split). */
  metrics: { testAccuracy: number; testCount: number; [extra: string]: unknown };
  weights: { file: typeof WEIGHTS_FILE; sha256: string };
};

/** What a caller hands to encodeModel: the manifest before its weights hash exists. */
export type ModelManifestDraft = Omit<ModelManifest, 'weights'> & { weights?: unknown };

const posInt = z
  .int({ error: 'expected a positive integer' })
  .min(1, { error: 'expected a positive integer' });
const natural = z
  .int({ error: 'expected a non-negative integer' })
  .min(0, { error: 'expected a non-negative integer' });
const text = z
  .string({ error: 'expected a non-empty string' })
  .min(1, { error: 'expected a non-empty string' });
const hex64 = z
  .string()
  .regex(/^[0-9a-f]{64}$/, { error: 'expected a sha256 as 64 lowercase hex digits' });
const tensorName = text.refine((s) => s !== '__metadata__', {
  error: '"__metadata__" is reserved by safetensors',
});

const pool = <T extends 'maxpool2d' | 'avgpool2d'>(type: T) =>
  z.strictObject({ type: z.literal(type), kernelSize: posInt, stride: posInt });

/**
 * One schema per layer type. Adding a layer type = its spec in layer-spec.ts + one entry here; the
 * `satisfies` clause fails to compile until both agree.
 */
const denseFields = { inDim: posInt, outDim: posInt, weight: tensorName, bias: tensorName };
const convFields = {
  inChannels: posInt,
  outChannels: posInt,
  kernelSize: posInt,
  stride: posInt,
  padding: natural,
  weight: tensorName,
  bias: tensorName,
};
const u32 = z
  .int({ error: 'expected an unsigned 32-bit integer' })
  .min(0, { error: 'expected an unsigned 32-bit integer' })
  .max(0xffffffff, { error: 'expected an unsigned 32-bit integer' });
const hash = z.strictObject({ buckets: posInt, seed: u32 });
// Constants the float32 forward multiplies or compares with: finite once rounded to float32 (1e39 is not).
const finite = z
  .number({ error: 'expected a finite number' })
  .refine((v) => Number.isFinite(Math.fround(v)), { error: 'expected a finite float32 number' });
/** Longest scale/shift of an affine layer: one per channel or feature, so a hostile file cannot blow memory. */
export const MAX_AFFINE_LENGTH = 4096;
const affineArray = z
  .array(finite, { error: 'expected an array of finite numbers' })
  .min(1, { error: 'expected at least one number' })
  .max(MAX_AFFINE_LENGTH, { error: `expected at most ${MAX_AFFINE_LENGTH} numbers` });

const layerSchemas = {
  dense: z.strictObject({ type: z.literal('dense'), ...denseFields }),
  conv2d: z.strictObject({ type: z.literal('conv2d'), ...convFields }),
  'hashed-dense': z.strictObject({ type: z.literal('hashed-dense'), ...denseFields, hash }),
  'hashed-conv2d': z.strictObject({ type: z.literal('hashed-conv2d'), ...convFields, hash }),
  relu: z.strictObject({ type: z.literal('relu') }),
  maxpool2d: pool('maxpool2d'),
  avgpool2d: pool('avgpool2d'),
  flatten: z.strictObject({ type: z.literal('flatten') }),
  'leaky-relu': z.strictObject({
    type: z.literal('leaky-relu'),
    alpha: z
      .number({ error: 'expected a finite number in [0, 1)' })
      .min(0, { error: 'expected a finite number in [0, 1)' })
      .lt(1, { error: 'expected a finite number in [0, 1)' }),
  }),
  sigmoid: z.strictObject({ type: z.literal('sigmoid') }),
  tanh: z.strictObject({ type: z.literal('tanh') }),
  // Both bounds open would make the layer an identity nobody meant to write: refused, like min > max.
  clip: z
    .strictObject({ type: z.literal('clip'), min: finite.nullable(), max: finite.nullable() })
    .refine((c) => c.min !== null || c.max !== null, {
      error: 'expected a number (min and max cannot both be null)',
      path: ['min'],
    })
    .refine((c) => c.min === null || c.max === null || c.min <= c.max, {
      error: 'expected min ≤ max',
      path: ['max'],
    }),
  affine: z
    .strictObject({ type: z.literal('affine'), scale: affineArray, shift: affineArray })
    .refine((a) => a.scale.length === a.shift.length, {
      error: 'expected as many numbers as scale',
      path: ['shift'],
    }),
} satisfies { [K in LayerSpec['type']]: z.ZodType<LayerSpec & { type: K }> };

type LayerSchema = (typeof layerSchemas)[keyof typeof layerSchemas];
const layerSchema = z.discriminatedUnion(
  'type',
  Object.values(layerSchemas) as [LayerSchema, ...LayerSchema[]],
);

const manifestSchema = z.strictObject({
  format: z.literal(1, { error: 'expected 1 (the only model file format this version reads)' }),
  name: text,
  input: z.strictObject({
    shape: z.tuple([posInt, posInt, posInt], { error: 'expected [C, H, W] positive integers' }),
    range: z.tuple([z.literal(0), z.literal(1)], { error: 'expected [0, 1]' }),
    background: z
      .enum(INPUT_BACKGROUNDS, {
        error: `expected one of ${INPUT_BACKGROUNDS.map((b) => `'${b}'`).join(', ')}`,
      })
      .optional(),
  }),
  classes: z.array(text).min(1, { error: 'expected at least one class name' }),
  layers: z.array(layerSchema).min(1, { error: 'expected at least one layer' }),
  defense: z.looseObject({ stages: z.array(z.unknown()) }).nullable(),
  provenance: z.looseObject({
    dataset: z.looseObject({
      name: text,
      sha256: z.union([hex64, z.literal('')], {
        error: "expected a sha256 (64 lowercase hex digits) or ''",
      }),
    }),
    seed: natural,
    epochs: natural,
    command: z.string(),
  }),
  metrics: z.looseObject({
    testAccuracy: z
      .number()
      .min(0, { error: 'expected a fraction in [0, 1]' })
      .max(1, { error: 'expected a fraction in [0, 1]' }),
    testCount: natural,
  }),
  weights: z.strictObject({
    file: z.literal(WEIGHTS_FILE, { error: `expected "${WEIGHTS_FILE}"` }),
    sha256: hex64,
  }),
}) satisfies z.ZodType<ModelManifest>;

/** The input background of a manifest; files written before the field existed count as 'any'. */
export function inputBackground(manifest: Pick<ModelManifest, 'input'>): InputBackground {
  return manifest.input.background ?? 'any';
}

/**
 * Validates parsed model.json. Errors name `file` and the JSON path of the first bad field, e.g.
 * `models/x/model.json: layers[2].kernelSize: expected a positive integer`.
 */
export function parseManifest(json: unknown, file: string): ModelManifest {
  const r = manifestSchema.safeParse(json);
  if (!r.success) {
    const problems = r.error.issues.map((issue) => describeIssue(issue, json));
    const [first, ...rest] = problems;
    const more = rest.length
      ? ` (also: ${rest
          .slice(0, 3)
          .map((p) => `${p.path}: ${p.detail}`)
          .join('; ')}${rest.length > 3 ? '; ...' : ''})`
      : '';
    throw new ModelFileError(file, first.path, first.detail + more);
  }
  const manifest = r.data as ModelManifest;
  // A tensor name owned by two layers would make the weights file ambiguous.
  const owner = new Map<string, number>();
  manifest.layers.forEach((spec, i) => {
    for (const { name } of layerTensors(spec)) {
      const j = owner.get(name);
      if (j !== undefined)
        throw new ModelFileError(
          file,
          `layers[${i}]`,
          `tensor name "${name}" is already used by layers[${j}]`,
        );
      owner.set(name, i);
    }
  });
  const seen = new Set<string>();
  manifest.classes.forEach((c, i) => {
    if (seen.has(c)) throw new ModelFileError(file, `classes[${i}]`, `duplicate class name "${c}"`);
    seen.add(c);
  });
  return manifest;
}

/**
 * Checks decoded weights against the layers: every tensor a layer owns is present with its exact shape and
 * no tensor is left over. Errors name `weightsFile`, the tensor and expected vs found shapes.
 */
export function checkTensorsAgainstLayers(
  manifest: ModelManifest,
  tensors: Map<string, Tensor>,
  weightsFile: string,
): void {
  const wanted = new Set<string>();
  manifest.layers.forEach((spec, i) => {
    for (const { name, shape } of layerTensors(spec)) {
      wanted.add(name);
      const t = tensors.get(name);
      const where = `${MANIFEST_FILE} layers[${i}] (${spec.type})`;
      if (!t)
        throw new ModelFileError(
          weightsFile,
          `tensor "${name}"`,
          `missing (${where} needs shape ${shapeStr(shape)})`,
        );
      if (!sameShape(t.shape, shape)) {
        throw new ModelFileError(
          weightsFile,
          `tensor "${name}" shape`,
          `expected ${shapeStr(shape)} from ${where}, found ${shapeStr(t.shape)}`,
        );
      }
    }
  });
  for (const name of tensors.keys()) {
    if (!wanted.has(name))
      throw new ModelFileError(
        weightsFile,
        `tensor "${name}"`,
        `not used by any layer in ${MANIFEST_FILE}`,
      );
  }
}

/**
 * Produces both files of a model directory: weights in layer order, then model.json (2-space JSON with a
 * trailing newline) carrying the weights' sha256. f64 tensors are stored rounded to f32.
 */
export async function encodeModel(
  draft: ModelManifestDraft,
  tensors: Map<string, Tensor> | Record<string, Tensor>,
): Promise<{ manifest: ModelManifest; manifestJson: string; weights: Uint8Array }> {
  // Validate everything but the hash (a placeholder) before writing a byte.
  const checked = parseManifest(
    { ...draft, weights: { file: WEIGHTS_FILE, sha256: '0'.repeat(64) } },
    MANIFEST_FILE,
  );
  const map = tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
  checkTensorsAgainstLayers(checked, map, WEIGHTS_FILE);
  const ordered = checked.layers
    .flatMap(layerTensors)
    .map(({ name }): [string, Tensor] => [name, map.get(name)!]);
  const weights = encodeSafetensors(ordered);
  const manifest: ModelManifest = {
    ...checked,
    weights: { file: WEIGHTS_FILE, sha256: await sha256Hex(weights) },
  };
  return { manifest, manifestJson: `${JSON.stringify(manifest, null, 2)}\n`, weights };
}

/**
 * Parses and verifies a model directory's files: model.json schema, then the weights' sha256 BEFORE decoding
 * (so a corrupt file is never half-read), then safetensors structure, then tensors against layers.
 * `dir` only labels error messages.
 */
export async function decodeModel(
  manifestText: string,
  weightsBytes: Uint8Array,
  dir: string,
): Promise<{ manifest: ModelManifest; tensors: Map<string, Tensor> }> {
  const manifestFile = joinPath(dir, MANIFEST_FILE);
  let json: unknown;
  try {
    json = JSON.parse(manifestText);
  } catch (e) {
    throw new ModelFileError(manifestFile, '(JSON)', `syntax error: ${(e as Error).message}`);
  }
  const manifest = parseManifest(json, manifestFile);
  const weightsFile = joinPath(dir, manifest.weights.file);
  const actual = await sha256Hex(weightsBytes);
  if (actual !== manifest.weights.sha256) {
    throw new ModelFileError(
      weightsFile,
      'sha256',
      `expected ${manifest.weights.sha256} (${MANIFEST_FILE} weights.sha256), found ${actual}: the file is corrupt or from another model`,
    );
  }
  const { tensors } = decodeSafetensors(weightsBytes, weightsFile);
  checkTensorsAgainstLayers(manifest, tensors, weightsFile);
  return { manifest, tensors };
}

function joinPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir.replace(/[\\/]+$/, '')}/${name}`;
}

/** Turns a zod issue into a JSON path plus a message, saying "missing" when the field is absent. */
function describeIssue(issue: z.core.$ZodIssue, root: unknown): { path: string; detail: string } {
  const path = [...issue.path];
  let detail = issue.message.replace(/^Invalid input: /, '');
  const value = valueAt(root, path);
  if (issue.code === 'unrecognized_keys') {
    path.push(issue.keys[0]);
    detail =
      issue.keys.length > 1
        ? `unknown field (also ${issue.keys.slice(1).join(', ')})`
        : 'unknown field';
  } else if (value === undefined && path.length > 0) {
    // zod's own wording ("expected object, received undefined") hides that the key is simply absent.
    const expected = issue.code === 'invalid_type' ? `expected ${issue.expected}` : '';
    const hint = issue.message.startsWith('Invalid') ? expected : detail;
    detail = `missing required field${hint ? ` (${hint})` : ''}`;
  } else if (
    issue.code === 'invalid_union' &&
    'discriminator' in issue &&
    issue.discriminator === 'type'
  ) {
    detail = `unknown layer type ${JSON.stringify(value)} (expected one of ${Object.keys(layerSchemas).join(', ')})`;
  }
  return { path: formatPath(path), detail };
}

function valueAt(root: unknown, path: PropertyKey[]): unknown {
  let v = root;
  for (const k of path) {
    if (typeof v !== 'object' || v === null || !Object.hasOwn(v, k)) return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

function formatPath(path: PropertyKey[]): string {
  let s = '';
  for (const k of path) {
    if (typeof k === 'number') s += `[${k}]`;
    else if (typeof k === 'string' && /^[A-Za-z_$][\w$]*$/.test(k)) s += s ? `.${k}` : k;
    else s += `[${JSON.stringify(String(k))}]`;
  }
  return s || '(root)';
}

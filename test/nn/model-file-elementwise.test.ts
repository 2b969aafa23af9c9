// model.json with the elementwise layers of imported models: an exact round trip (they store no tensors), and
// every malformed field rejected with its JSON path: alpha out of [0, 1), clip bounds, affine arrays.
import { describe, expect, test } from 'bun:test';
import { layerTensors, type LayerSpec } from '../../src/nn/index.ts';
import {
  MAX_AFFINE_LENGTH,
  ModelFileError,
  decodeModel,
  encodeModel,
  parseManifest,
} from '../../src/nn/model-file.ts';
import { tinyModel } from '../io/tiny-model.ts';

/** The tiny conv → pool → dense model with every new type in between (shapes: [2, 4, 4] → [8] → [3]). */
function withNewLayers() {
  const { draft, tensors } = tinyModel();
  const [conv, relu, pool, flatten, fc] = draft.layers;
  const layers: LayerSpec[] = [
    { type: 'affine', scale: [-0.5], shift: [0.25] },
    conv,
    relu,
    { type: 'leaky-relu', alpha: 0.01 },
    { type: 'affine', scale: [2, -1.5], shift: [0, 1e-3] },
    pool,
    { type: 'tanh' },
    flatten,
    { type: 'clip', min: null, max: 6 },
    { type: 'sigmoid' },
    { type: 'clip', min: -1, max: 1 },
    fc,
    { type: 'clip', min: 0, max: null },
  ];
  return { draft: { ...draft, layers }, tensors };
}

async function rejection(p: Promise<unknown> | (() => unknown)): Promise<ModelFileError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFileError);
    return e as ModelFileError;
  }
  throw new Error('expected a ModelFileError');
}

describe('elementwise layers in model.json', () => {
  test('round trip is exact, and the layers own no tensors', async () => {
    const { draft, tensors } = withNewLayers();
    for (const l of draft.layers.filter((l) => !('weight' in l)))
      expect(layerTensors(l)).toEqual([]);
    const { manifest, manifestJson, weights } = await encodeModel(draft, tensors);
    expect(manifest.layers).toEqual(draft.layers);
    const out = await decodeModel(manifestJson, weights, 'models/x');
    expect(out.manifest).toEqual(manifest);
    expect(JSON.parse(manifestJson).layers[0]).toEqual({
      type: 'affine',
      scale: [-0.5],
      shift: [0.25],
    });
    expect([...out.tensors.keys()]).toEqual(['conv1.weight', 'conv1.bias', 'fc.weight', 'fc.bias']);
  });

  test('an affine array at the length cap is accepted', async () => {
    const { draft } = withNewLayers();
    const m = JSON.parse(JSON.stringify(draft));
    m.weights = { file: 'weights.safetensors', sha256: '0'.repeat(64) };
    const full = Array.from({ length: MAX_AFFINE_LENGTH }, (_, i) => i / 7);
    m.layers[0] = { type: 'affine', scale: full, shift: full };
    expect(parseManifest(m, 'f').layers[0]).toEqual(m.layers[0]);
  });

  const cases: [string, LayerSpec | Record<string, unknown>, string][] = [
    [
      'negative alpha',
      { type: 'leaky-relu', alpha: -0.1 },
      'f: layers[3].alpha: expected a finite number in [0, 1)',
    ],
    [
      'alpha of 1',
      { type: 'leaky-relu', alpha: 1 },
      'f: layers[3].alpha: expected a finite number in [0, 1)',
    ],
    [
      'alpha as text',
      { type: 'leaky-relu', alpha: '0.1' },
      'f: layers[3].alpha: expected a finite number in [0, 1)',
    ],
    [
      'NaN alpha',
      { type: 'leaky-relu', alpha: NaN },
      'f: layers[3].alpha: expected a finite number',
    ],
    ['missing alpha', { type: 'leaky-relu' }, 'f: layers[3].alpha: missing required field'],
    ['an extra field', { type: 'sigmoid', alpha: 1 }, 'f: layers[3].alpha: unknown field'],
    ['clip min > max', { type: 'clip', min: 2, max: 1 }, 'f: layers[3].max: expected min ≤ max'],
    [
      'clip with both sides null',
      { type: 'clip', min: null, max: null },
      'f: layers[3].min: expected a number (min and max cannot both be null)',
    ],
    ['clip min missing', { type: 'clip', max: 1 }, 'f: layers[3].min: missing required field'],
    ['clip NaN', { type: 'clip', min: NaN, max: 1 }, 'f: layers[3].min: expected a finite number'],
    [
      'clip infinite',
      { type: 'clip', min: 0, max: Infinity },
      'f: layers[3].max: expected a finite number',
    ],
    [
      'affine lengths differ',
      { type: 'affine', scale: [1, 2], shift: [0] },
      'f: layers[3].shift: expected as many numbers as scale',
    ],
    [
      'affine empty',
      { type: 'affine', scale: [], shift: [] },
      'f: layers[3].scale: expected at least one number',
    ],
    [
      'affine NaN',
      { type: 'affine', scale: [1, NaN], shift: [0, 0] },
      'f: layers[3].scale[1]: expected a finite number',
    ],
    [
      'affine not an array',
      { type: 'affine', scale: 1, shift: [0] },
      'f: layers[3].scale: expected an array of finite numbers',
    ],
    [
      'a scale beyond float32',
      { type: 'affine', scale: [1e39], shift: [0] },
      'f: layers[3].scale[0]: expected a finite float32 number',
    ],
    [
      'affine past the length cap',
      { type: 'affine', scale: new Array(MAX_AFFINE_LENGTH + 1).fill(1), shift: [0] },
      `f: layers[3].scale: expected at most ${MAX_AFFINE_LENGTH} numbers`,
    ],
  ];
  for (const [what, layer, message] of cases)
    test(`rejects ${what}`, async () => {
      const m = JSON.parse(JSON.stringify(withNewLayers().draft));
      m.weights = { file: 'weights.safetensors', sha256: '0'.repeat(64) };
      m.layers[3] = layer; // JSON cannot carry NaN or Infinity; parsed objects can
      const e = await rejection(() => parseManifest(m, 'f'));
      expect(e.message).toStartWith(message);
    });

  test('a huge affine array fails fast, by its length', () => {
    const m = JSON.parse(JSON.stringify(withNewLayers().draft));
    m.weights = { file: 'weights.safetensors', sha256: '0'.repeat(64) };
    const huge = new Array(1_000_000).fill(0.5);
    m.layers[0] = { type: 'affine', scale: huge, shift: huge };
    const t0 = performance.now();
    expect(() => parseManifest(m, 'f')).toThrow('layers[0].scale: expected at most');
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

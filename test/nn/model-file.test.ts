// model.json schema and the pure encode/decode of a model directory: exact round trip, sha256 before
// decoding, and errors that name the file plus the JSON path or tensor at fault.
import { describe, expect, test } from 'bun:test';
import {
  ModelFileError,
  checkTensorsAgainstLayers,
  decodeModel,
  encodeModel,
  parseManifest,
  sha256Hex,
} from '../../src/nn/model-file.ts';
import { Tensor, tensor } from '../../src/tensor/tensor.ts';
import { tinyModel } from '../io/tiny-model.ts';

async function rejection(p: Promise<unknown> | (() => unknown)): Promise<ModelFileError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFileError);
    return e as ModelFileError;
  }
  throw new Error('expected a ModelFileError');
}

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));

describe('encodeModel / decodeModel', () => {
  test('round trip is exact: manifest, tensor names, shapes and bits (incl. -0)', async () => {
    const { draft, tensors } = tinyModel();
    const { manifest, manifestJson, weights } = await encodeModel(draft, tensors);
    expect(manifestJson.endsWith('}\n')).toBe(true);
    expect(manifestJson).toContain('\n  "format": 1,');
    expect(manifest.weights).toEqual({
      file: 'weights.safetensors',
      sha256: await sha256Hex(weights),
    });
    const out = await decodeModel(manifestJson, weights, 'models/tiny');
    expect(out.manifest).toEqual(manifest);
    expect(out.manifest.provenance.git).toBe('abc'); // extra provenance keys survive
    expect([...out.tensors.keys()]).toEqual(['conv1.weight', 'conv1.bias', 'fc.weight', 'fc.bias']); // layer order
    for (const [name, t] of tensors) {
      expect(out.tensors.get(name)!.shape).toEqual(t.shape);
      expect(new Uint32Array(out.tensors.get(name)!.data.buffer)).toEqual(
        new Uint32Array(t.data.buffer),
      );
    }
    // Encoding is deterministic: same model, same bytes.
    const again = await encodeModel(out.manifest, out.tensors);
    expect(again.manifestJson).toBe(manifestJson);
    expect(again.weights).toEqual(weights);
  });

  test('sha256Hex matches a known vector', async () => {
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  test('truncated weights are rejected by sha256 before decoding, naming both hashes', async () => {
    const { draft, tensors } = tinyModel();
    const { manifest, manifestJson, weights } = await encodeModel(draft, tensors);
    for (const cut of [0, 7, 8, 60, weights.length - 4, weights.length - 1]) {
      const e = await rejection(decodeModel(manifestJson, weights.subarray(0, cut), 'm'));
      expect(e.file).toBe('m/weights.safetensors');
      expect(e.field).toBe('sha256');
      expect(e.message).toContain(manifest.weights.sha256);
      expect(e.message).toContain(await sha256Hex(weights.subarray(0, cut)));
    }
  });

  test('a flipped byte in header or data is a sha256 mismatch', async () => {
    const { draft, tensors } = tinyModel();
    const { manifestJson, weights } = await encodeModel(draft, tensors);
    for (const at of [3, 20, weights.length - 1]) {
      const bad = weights.slice();
      bad[at] ^= 0x10;
      const e = await rejection(decodeModel(manifestJson, bad, 'm'));
      expect(e.message).toStartWith('m/weights.safetensors: sha256: expected ');
    }
  });

  test('model.json syntax error names model.json', async () => {
    const e = await rejection(decodeModel('{"format": 1,', new Uint8Array(), 'models/x'));
    expect(e.message).toStartWith('models/x/model.json: (JSON): syntax error');
  });

  test('a consistent hash over wrong weights still fails the layer check', async () => {
    const { draft, tensors } = tinyModel();
    const { manifestJson } = await encodeModel(draft, tensors);
    const other = await encodeModel(
      {
        ...draft,
        layers: [
          { type: 'flatten' },
          { type: 'dense', inDim: 16, outDim: 3, weight: 'fc.weight', bias: 'fc.bias' },
        ],
      },
      { 'fc.weight': tensor(new Float32Array(48), [3, 16]), 'fc.bias': tensor([0, 0, 0]) },
    );
    const forged = JSON.parse(manifestJson);
    forged.weights.sha256 = other.manifest.weights.sha256;
    const e = await rejection(decodeModel(JSON.stringify(forged), other.weights, 'm'));
    expect(e.message).toContain('m/weights.safetensors: tensor "conv1.weight": missing');
  });

  test('encodeModel validates before producing bytes', async () => {
    const { draft, tensors } = tinyModel();
    tensors.delete('fc.bias');
    expect((await rejection(encodeModel(draft, tensors))).message).toContain(
      'tensor "fc.bias": missing',
    );
    const bad = { ...tinyModel().draft, name: '' };
    expect((await rejection(encodeModel(bad, tinyModel().tensors))).message).toBe(
      'model.json: name: expected a non-empty string',
    );
  });
});

describe('parseManifest', () => {
  const valid = async () => (await encodeModel(tinyModel().draft, tinyModel().tensors)).manifest;

  test('accepts a valid manifest and an object defense', async () => {
    const m = clone(await valid());
    m.defense = { stages: [{ type: 'scale', alpha: 100 }] };
    expect(parseManifest(m, 'f').defense).toEqual({ stages: [{ type: 'scale', alpha: 100 }] });
  });

  const cases: [string, (m: any) => void, string][] = [
    ['missing field', (m) => delete m.classes, 'f: classes: missing required field'],
    [
      'missing nested field',
      (m) => delete m.provenance.dataset.sha256,
      'f: provenance.dataset.sha256:',
    ],
    [
      'wrong type',
      (m) => (m.layers[0].kernelSize = '3'),
      'f: layers[0].kernelSize: expected a positive integer',
    ],
    [
      'non-positive',
      (m) => (m.layers[2].kernelSize = 0),
      'f: layers[2].kernelSize: expected a positive integer',
    ],
    [
      'negative padding',
      (m) => (m.layers[0].padding = -1),
      'f: layers[0].padding: expected a non-negative integer',
    ],
    [
      'unknown layer type',
      (m) => (m.layers[1].type = 'gelu'),
      'f: layers[1].type: unknown layer type "gelu" (expected one of dense,',
    ],
    [
      'unknown field',
      (m) => (m.layers[4].hash = { buckets: 4, seed: 1 }),
      'f: layers[4].hash: unknown field',
    ],
    ['unknown top-level field', (m) => (m.metric = {}), 'f: metric: unknown field'],
    ['format version', (m) => (m.format = 2), 'f: format: expected 1'],
    ['input shape', (m) => (m.input.shape = [1, 4]), 'f: input.shape: expected [C, H, W]'],
    ['input range', (m) => (m.input.range = [0, 255]), 'f: input.range[1]:'],
    ['bad weights hash', (m) => (m.weights.sha256 = 'ABC'), 'f: weights.sha256: expected a sha256'],
    [
      'weights file name',
      (m) => (m.weights.file = 'w.bin'),
      'f: weights.file: expected "weights.safetensors"',
    ],
    [
      'accuracy as percent',
      (m) => (m.metrics.testAccuracy = 98.7),
      'f: metrics.testAccuracy: expected a fraction in [0, 1]',
    ],
    [
      'defense without stages',
      (m) => (m.defense = {}),
      'f: defense.stages: missing required field',
    ],
    [
      'duplicate tensor name',
      (m) => (m.layers[4].weight = 'conv1.weight'),
      'f: layers[4]: tensor name "conv1.weight" is already used by layers[0]',
    ],
    [
      'reserved tensor name',
      (m) => (m.layers[4].bias = '__metadata__'),
      'f: layers[4].bias: "__metadata__" is reserved',
    ],
    [
      'duplicate class',
      (m) => (m.classes[2] = 'zero'),
      'f: classes[2]: duplicate class name "zero"',
    ],
    [
      'not an object',
      (m) => Object.keys(m).forEach((k) => delete m[k]),
      'f: format: missing required field',
    ],
  ];
  for (const [name, mutate, message] of cases) {
    test(`rejects ${name}`, async () => {
      const m = clone(await valid());
      mutate(m);
      const e = await rejection(() => parseManifest(m, 'f'));
      expect(e.message).toStartWith(message);
    });
  }

  test('rejects non-objects at the root', async () => {
    expect((await rejection(() => parseManifest([], 'f'))).message).toStartWith('f: (root):');
    expect((await rejection(() => parseManifest(null, 'f'))).message).toStartWith('f: (root):');
  });
});

describe('checkTensorsAgainstLayers', () => {
  const setup = async () => {
    const { draft, tensors } = tinyModel();
    return { manifest: (await encodeModel(draft, tensors)).manifest, tensors };
  };

  test('shape mismatch names file, tensor, expected and found shapes', async () => {
    const { manifest, tensors } = await setup();
    tensors.set('fc.weight', new Tensor([8, 3], new Float32Array(24)));
    const e = await rejection(() =>
      checkTensorsAgainstLayers(manifest, tensors, 'd/weights.safetensors'),
    );
    expect(e.message).toBe(
      'd/weights.safetensors: tensor "fc.weight" shape: expected [3, 8] from model.json layers[4] (dense), found [8, 3]',
    );
  });

  test('missing and extra tensors', async () => {
    const { manifest, tensors } = await setup();
    tensors.delete('conv1.bias');
    let e = await rejection(() => checkTensorsAgainstLayers(manifest, tensors, 'w'));
    expect(e.message).toBe(
      'w: tensor "conv1.bias": missing (model.json layers[0] (conv2d) needs shape [2])',
    );
    tensors.set('conv1.bias', tensor([0, 0]));
    tensors.set('stray', tensor([1]));
    e = await rejection(() => checkTensorsAgainstLayers(manifest, tensors, 'w'));
    expect(e.message).toBe('w: tensor "stray": not used by any layer in model.json');
  });
});

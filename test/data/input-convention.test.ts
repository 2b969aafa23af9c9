// The input convention as data: model.json input.background (optional in the schema, 'any' when absent),
// carried by the dataset descriptors, kept by encode/decode and hardening, and recorded in every committed model.
import { describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { inputConvention, sampleDataset, subset, syntheticDataset } from '../../src/data/index.ts';
import { loadDataset } from '../../src/data/node.ts';
import {
  decodeModel,
  encodeModel,
  inputBackground,
  ModelFileError,
  parseManifest,
} from '../../src/nn/model-file.ts';
import { harden } from '../../src/defense/harden.ts';
import { loadModel } from '../../src/node.ts';
import { tinyModel } from '../io/tiny-model.ts';

const ROOT = join(import.meta.dir, '../..');

describe('model.json input.background', () => {
  test("optional: a file without it parses and reads as 'any'", () => {
    const { draft } = tinyModel();
    const json = JSON.parse(
      JSON.stringify({
        ...draft,
        weights: { file: 'weights.safetensors', sha256: '0'.repeat(64) },
      }),
    );
    delete json.input.background;
    const m = parseManifest(json, 'f');
    expect(m.input.background).toBeUndefined();
    expect(inputBackground(m)).toBe('any');
  });

  test("'dark', 'light' and 'any' are accepted; anything else names the field", () => {
    const { draft } = tinyModel();
    const base = { ...draft, weights: { file: 'weights.safetensors', sha256: '0'.repeat(64) } };
    for (const background of ['dark', 'light', 'any'] as const) {
      expect(
        inputBackground(parseManifest({ ...base, input: { ...base.input, background } }, 'f')),
      ).toBe(background);
    }
    let err: unknown;
    try {
      parseManifest({ ...base, input: { ...base.input, background: 'white' } }, 'f');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as Error).message).toBe(
      "f: input.background: expected one of 'dark', 'light', 'any'",
    );
  });

  test('encode → decode keeps it, and hardening carries it to the defended model', async () => {
    const { draft, tensors } = tinyModel();
    const enc = await encodeModel(
      { ...draft, input: { ...draft.input, background: 'dark' } },
      tensors,
    );
    expect(enc.manifestJson).toContain('"background": "dark"');
    const dec = await decodeModel(enc.manifestJson, enc.weights, 'm');
    expect(dec.manifest.input.background).toBe('dark');
    const model = await loadModel(join(ROOT, 'models/mnist-lenet5'));
    const hardened = await harden(model, ['magnitude:0.05']);
    expect(hardened.manifest.input).toEqual({
      shape: [1, 28, 28],
      range: [0, 1],
      background: 'dark',
    });
  });
});

describe('dataset descriptors', () => {
  test("MNIST is 'dark' (white digits on black), in both splits and through sampling", async () => {
    const { train, test: t } = await loadDataset('mnist');
    expect([train.background, t.background]).toEqual(['dark', 'dark']);
    expect(sampleDataset(t, 10, 1).background).toBe('dark');
    expect(subset(t, [0, 1, 2]).background).toBe('dark');
    expect(inputConvention(t)).toEqual({ shape: [1, 28, 28], range: [0, 1], background: 'dark' });
    // The data agrees: no test digit has a border mean anywhere near the 0.5 at which the server inverts.
    let worst = 0;
    for (let i = 0; i < t.count; i++) {
      const img = t.images.subarray(i * 784, (i + 1) * 784);
      let sum = 0;
      for (let k = 0; k < 27; k++)
        sum += img[k + 1] + img[27 * 28 + k] + img[k * 28] + img[(k + 1) * 28 + 27];
      worst = Math.max(worst, sum / 108);
    }
    expect(worst).toBeLessThan(0.2);
  });

  test("synthetic data has none, which inputConvention records as 'any'", () => {
    const ds = syntheticDataset({
      shape: [3, 8, 8],
      classes: 2,
      count: 4,
      seed: 1,
      split: 'train',
    });
    expect(ds.background).toBeUndefined();
    expect(inputConvention(ds)).toEqual({ shape: [3, 8, 8], range: [0, 1], background: 'any' });
  });
});

describe('committed models', () => {
  const dirs = ['models', 'models/baselines']
    .flatMap((d) => readdirSync(join(ROOT, d)).map((m) => join(ROOT, d, m)))
    .filter((d) => existsSync(join(d, 'model.json')));
  const expected: Record<string, string> = {
    mnist: 'dark',
    'fashion-mnist': 'dark',
    'cifar10-jpeg': 'any',
    cifar10: 'any',
  };

  test('every model.json records the background of the dataset it was trained on', () => {
    expect(dirs.length).toBeGreaterThanOrEqual(18);
    for (const dir of dirs) {
      const m = parseManifest(JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')), dir);
      expect(`${dir.slice(ROOT.length + 1)}: ${m.input.background}`).toBe(
        `${dir.slice(ROOT.length + 1)}: ${expected[m.provenance.dataset.name]}`,
      );
    }
  });
});

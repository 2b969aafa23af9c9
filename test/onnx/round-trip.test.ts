// Every committed model (models/*/ and models/baselines/*/) exported to ONNX and imported back: the same layers
// (hashed layers come back dense, with their virtual weights) and the same logits within 1e-6 relative on a few
// seeded images (reference engine). A model with a random GI stage is refused, naming why; its network round-trips.
import { describe, expect, test } from 'bun:test';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { referenceBackend, withBackend } from '../../src/backend/index.ts';
import { loadModelDir } from '../../src/io/index.ts';
import { Sequential, type LayerSpec } from '../../src/nn/index.ts';
import { Tensor } from '../../src/tensor/index.ts';
import { exportOnnx, importOnnx } from '../../src/onnx/index.ts';
import { values } from './onnx-builder.ts';

const MODELS = join(import.meta.dir, '../../models');
const dirs = [
  ...readdirSync(MODELS).map((d) => join(MODELS, d)),
  ...readdirSync(join(MODELS, 'baselines')).map((d) => join(MODELS, 'baselines', d)),
]
  .filter((d) => existsSync(join(d, 'model.json')))
  .sort();

/** The layer an import gives back for `spec`: hashed layers lose their hash (dense-equivalent). */
function dense(spec: LayerSpec): LayerSpec {
  if (spec.type === 'hashed-dense' || spec.type === 'hashed-conv2d') {
    const { hash: _hash, ...rest } = spec;
    return { ...rest, type: spec.type === 'hashed-dense' ? 'dense' : 'conv2d' } as LayerSpec;
  }
  return spec;
}

test('the committed models are all here', () => {
  expect(dirs.length).toBeGreaterThanOrEqual(25);
});

describe('export → import of every committed model', () => {
  for (const dir of dirs) {
    test(
      dir.slice(MODELS.length + 1),
      async () => {
        const { manifest, tensors } = await loadModelDir(dir);
        const shape = manifest.input.shape;
        const k = manifest.classes.length;
        const defense = manifest.defense as { stages: { kind: string }[] } | null;
        if (defense?.stages.some((s) => s.kind === 'random'))
          expect(() => exportOnnx(manifest.layers, tensors, shape, k, { defense })).toThrow(
            "the 'random' gradient-inhibition stage draws fresh logit scales and weight noise for every query; ONNX has no such op",
          );
        const bytes = exportOnnx(manifest.layers, tensors, shape, k);
        const back = importOnnx(bytes);
        expect(back.layers).toEqual(manifest.layers.map(dense));
        expect(back).toMatchObject({ inputShape: shape, classes: k, output: 'logits', opset: 13 });
        expect(back.producer).toBe('hashguard');
        const n = 3;
        const x = new Tensor(
          [n, ...shape],
          Float32Array.from(values(n * shape[0] * shape[1] * shape[2], 11), (v) => (v + 1) / 2),
        );
        const [want, got] = withBackend(referenceBackend, () => [
          new Sequential(shape, manifest.layers, tensors).forward(x),
          new Sequential(back.inputShape, back.layers, back.params).forward(x),
        ]);
        const scale = Math.max(...want.data.map(Math.abs));
        const err = Math.max(...got.data.map((v, i) => Math.abs(v - want.data[i])));
        expect(err).toBeLessThanOrEqual(1e-6 * scale);
      },
      60_000,
    );
  }
});

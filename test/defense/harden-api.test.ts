// harden() (the embedding API of issue 8 item 9): same weights and spec as `bun run harden`, the source left
// untouched, the manifest's sha256 that of the edited weights, and predict() answering through the defense.
import { describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { harden, loadModel, predict, Tensor } from '../../src/node.ts';
import { encodeModel } from '../../src/nn/model-file.ts';
import { mnistDigits } from '../serve/helpers.ts';

const ROOT = join(import.meta.dir, '../..');

describe('harden()', () => {
  test('a random stage keeps the weights: the result matches the committed CLI-hardened model', async () => {
    const source = await loadModel(join(ROOT, 'models/mnist-lenet5-h8'));
    const committed = await loadModel(join(ROOT, 'models/mnist-lenet5-h8-gi'));
    const h = await harden(source, ['random:50,150,0.05'], { name: 'mnist-lenet5-h8-gi' });
    expect(h.manifest.weights.sha256).toBe(committed.manifest.weights.sha256);
    expect(h.manifest.defense).toEqual(committed.manifest.defense);
    expect(h.defended.randomized).toBe(true);
  });

  test('static stages edit a copy; the sha256 is that of the edited weights; predictions survive scale', async () => {
    const source = await loadModel(join(ROOT, 'models/mnist-lenet5'));
    const before = Float32Array.from(source.network.params.get('fc3.weight')!.data);
    const h = await harden(source, ['scale:100']);
    expect(source.network.params.get('fc3.weight')!.data).toEqual(before);
    expect(h.network.params.get('fc3.weight')!.data[0]).toBeCloseTo(100 * before[0], 3);
    expect(h.manifest.weights.sha256).not.toBe(source.manifest.weights.sha256);
    const again = await encodeModel(h.manifest, h.network.params);
    expect(again.manifest.weights.sha256).toBe(h.manifest.weights.sha256);
    expect(h.manifest.name).toBe('mnist-lenet5-gi');
    expect(h.manifest.metrics.remeasured).toBe(false);

    const { floats } = mnistDigits(64);
    expect(Array.from(predict(h, floats))).toEqual(Array.from(predict(source, floats)));
    const x = new Tensor([64, 1, 28, 28], floats);
    const zs = source.network.forward(x).data,
      zh = h.defended.forward(x).data;
    for (let i = 0; i < 20; i++) expect(zh[i]).toBeCloseTo(100 * zs[i], 1);
  });

  test('a random stage answers through the defense: logits vary per call, labels mostly hold', async () => {
    const source = await loadModel(join(ROOT, 'models/mnist-lenet5'));
    const h = await harden(source, ['random:50,150,0.05'], { secret: 3 });
    const { floats, labels } = mnistDigits(100);
    const x = new Tensor([100, 1, 28, 28], floats);
    expect(Array.from(h.defended.forward(x).data.slice(0, 10))).not.toEqual(
      Array.from(h.defended.forward(x).data.slice(0, 10)),
    );
    const p = predict(h, floats);
    expect(p.reduce((n, v, i) => n + (v === labels[i] ? 1 : 0), 0)).toBeGreaterThanOrEqual(95);
  });

  test('bad calls fail with a message naming the problem', async () => {
    const source = await loadModel(join(ROOT, 'models/mnist-lenet5'));
    await expect(harden(source, [])).rejects.toThrow('at least one stage');
    await expect(harden(source, ['scale:-1'])).rejects.toThrow("--gi 'scale:-1'");
    await expect(harden(source, ['warp:2'])).rejects.toThrow(
      'expected magnitude:EPS, scale:ALPHA or random',
    );
    const defended = await loadModel(join(ROOT, 'models/mnist-lenet5-h8-gi'));
    await expect(harden(defended, ['scale:2'])).rejects.toThrow('already defended');
  });
});

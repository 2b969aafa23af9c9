// The embedding API as a user calls it: load a committed model, predict, and get clear errors.
import { expect, test } from 'bun:test';
import { join } from 'node:path';
import { loadDataset, loadModel, predict } from '../src/node.ts';

test('load → predict on the committed MNIST LeNet-5', async () => {
  const model = await loadModel(join(import.meta.dir, '../models/mnist-lenet5'));
  const { test: t } = await loadDataset('mnist');
  const pred = predict(model, t.images.subarray(0, 20 * 784));
  let correct = 0;
  pred.forEach((p, i) => {
    if (p === t.labels[i]) correct++;
  });
  expect(correct).toBeGreaterThanOrEqual(19);
  expect(() => predict(model, new Float32Array(100))).toThrow(
    /not a positive multiple of one image \(784\)/,
  );
});

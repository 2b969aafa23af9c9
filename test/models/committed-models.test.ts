// The committed models: they load (checksums verified), meet the accuracy targets on the full test
// split recorded in model.json, and reproduce their golden subset accuracy and logits exactly.
import { describe, expect, test } from 'bun:test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad } from '../../src/autodiff/grad.ts';
import { loadDataset } from '../../src/data/index.ts';
import { loadModelDir } from '../../src/io/model-dir.ts';
import { gatherBatch } from '../../src/nn/batches.ts';
import { accuracy } from '../../src/nn/evaluate.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { COMMITTED_MODELS, GOLDEN_FILE, GOLDEN_LOGIT_ROWS, goldenSubset, REPO_ROOT } from '../helpers/committed-models.ts';

const goldens = JSON.parse(readFileSync(GOLDEN_FILE, 'utf8'));
const fashionMissing = !existsSync(process.env.HASHGUARD_FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist');
if (fashionMissing) console.warn('skipping fashion-lenet5 checks: install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist)');

describe('committed models', () => {
  for (const { name, dataset, minTestAccuracy } of COMMITTED_MODELS) {
    test.skipIf(dataset === 'fashion-mnist' && fashionMissing)(`${name}: target accuracy, golden subset accuracy and logits`, async () => {
      const { manifest, tensors } = await loadModelDir(join(REPO_ROOT, 'models', name));
      const golden = goldens[name];
      expect(manifest.weights.sha256).toBe(golden.weightsSha256);
      expect(manifest.metrics.testCount).toBe(10000);
      expect(manifest.metrics.testAccuracy).toBeGreaterThanOrEqual(minTestAccuracy);
      const model = new Sequential(manifest.input.shape, manifest.layers, tensors);
      const { test: testSet } = await loadDataset(dataset);
      const subset = goldenSubset(testSet.count);
      expect(accuracy(model, testSet, subset).correct).toBe(golden.subsetCorrect);
      const { x } = gatherBatch(testSet, subset, 0, GOLDEN_LOGIT_ROWS);
      const logits = noGrad(() => model.forward(x)).data;
      golden.logits.forEach((v: number, i: number) => expect(Math.abs(logits[i] - v)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(v))));
    }, 60_000);
  }
});

// Rewrites test/golden/committed-models.json: per committed model, its weights hash, the number of correct
// predictions on the fixed 1000-image subset, and the logits of its first rows. Run only after retraining:
//   bun scripts/make-model-goldens.ts
import { noGrad } from '../src/autodiff/grad.ts';
import { referenceBackend, setBackend } from '../src/backend/index.ts';
import { loadDataset } from '../src/data/index.ts';
import { loadModelDir } from '../src/io/model-dir.ts';
import { gatherBatch } from '../src/nn/batches.ts';
import { accuracy } from '../src/nn/evaluate.ts';
import { Sequential } from '../src/nn/sequential.ts';
import { writeFileAtomic } from '../src/io/files.ts';
import { COMMITTED_MODELS, GOLDEN_FILE, GOLDEN_LOGIT_ROWS, goldenSubset, REPO_ROOT } from '../test/helpers/committed-models.ts';
import { join } from 'node:path';

// Goldens come from the reference kernels (the oracle); the test checks the default (fast) backend against them.
setBackend(referenceBackend);
const out: Record<string, unknown> = {};
for (const { name, dataset } of COMMITTED_MODELS) {
  const { manifest, tensors } = await loadModelDir(join(REPO_ROOT, 'models', name));
  const model = new Sequential(manifest.input.shape, manifest.layers, tensors);
  const { test } = await loadDataset(dataset);
  const subset = goldenSubset(test.count);
  const r = accuracy(model, test, subset);
  const { x } = gatherBatch(test, subset, 0, GOLDEN_LOGIT_ROWS);
  const logits = noGrad(() => model.forward(x));
  out[name] = { weightsSha256: manifest.weights.sha256, subsetCorrect: r.correct, subsetCount: r.count, logits: Array.from(logits.data) };
  console.log(`${name}: ${r.correct}/${r.count}`);
}
await writeFileAtomic(GOLDEN_FILE, JSON.stringify(out, null, 2) + '\n');
console.log(`wrote ${GOLDEN_FILE}`);

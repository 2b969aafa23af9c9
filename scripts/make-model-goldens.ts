// Rewrites test/golden/committed-models.json: per committed model, its weights hash, the number of correct
// predictions on the fixed 1000-image subset, and the logits of its first rows. Run only after retraining:
//   bun scripts/make-model-goldens.ts [NAME ...]   (names: only those entries, the others kept as they are)
import { noGrad } from '../src/autodiff/index.ts';
import { referenceBackend, setBackend } from '../src/backend/index.ts';
import { loadModelDir, writeFileAtomic } from '../src/io/index.ts';
import { gatherBatch, accuracy, Sequential } from '../src/nn/index.ts';
import {
  COMMITTED_MODELS,
  GOLDEN_FILE,
  GOLDEN_LOGIT_ROWS,
  goldenSubset,
  REPO_ROOT,
  testSplit,
} from '../test/helpers/committed-models.ts';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { scriptArgs, usageExit } from '../src/cli/index.ts';

// Goldens come from the reference kernels (the oracle); the test checks the default (fast) backend against them.
setBackend(referenceBackend);
const USAGE =
  'usage: bun scripts/make-model-goldens.ts [NAME ...]   (rewrites test/golden/committed-models.json: all committed models, or only the NAMEs)';
const only = scriptArgs(USAGE, {}, { positionals: true }).positionals;
const unknown = only.filter((n) => !COMMITTED_MODELS.some((m) => m.name === n));
if (unknown.length) usageExit(USAGE, `not committed models: ${unknown.join(', ')}`);
const out: Record<string, unknown> =
  only.length && existsSync(GOLDEN_FILE) ? JSON.parse(readFileSync(GOLDEN_FILE, 'utf8')) : {};
for (const { name, dataset } of COMMITTED_MODELS.filter(
  (m) => !only.length || only.includes(m.name),
)) {
  const { manifest, tensors } = await loadModelDir(join(REPO_ROOT, 'models', name));
  const model = new Sequential(manifest.input.shape, manifest.layers, tensors);
  const test = await testSplit(dataset);
  const subset = goldenSubset(test.count);
  const r = accuracy(model, test, subset);
  const { x } = gatherBatch(test, subset, 0, GOLDEN_LOGIT_ROWS);
  const logits = noGrad(() => model.forward(x));
  out[name] = {
    weightsSha256: manifest.weights.sha256,
    subsetCorrect: r.correct,
    subsetCount: r.count,
    logits: Array.from(logits.data),
  };
  console.log(`${name}: ${r.correct}/${r.count}`);
}
await writeFileAtomic(GOLDEN_FILE, JSON.stringify(out, null, 2) + '\n');
console.log(`wrote ${GOLDEN_FILE}`);

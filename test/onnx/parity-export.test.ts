// Export parity: every committed model under models/ written by exportOnnx and run by onnxruntime-node gives
// hashguard's own logits on 256 test images of its dataset; a model with a random gradient-inhibition stage (fresh
// noise per query, no ONNX form) is refused with an OnnxError that says so.
import { describe, expect, test } from 'bun:test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { noGrad } from '../../src/autodiff/grad.ts';
import { loadCifar10Jpeg } from '../../src/data/node.ts';
import type { Dataset } from '../../src/data/index.ts';
import { loadModelDir } from '../../src/io/model-dir.ts';
import { gatherBatch } from '../../src/nn/batches.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { exportOnnx, OnnxError, type ExportOptions } from '../../src/onnx/index.ts';
import {
  goldenSubset,
  missingData,
  REPO_ROOT,
  testSplit,
  type CommittedModel,
} from '../helpers/committed-models.ts';
import { expectBatchesClose, ortRun, ortSession } from './parity-ort.ts';

/** The tolerance: per batch, max |onnxruntime − hashguard| ≤ REL × max |onnxruntime|. */
const REL = 1e-5;
const IMAGES = 256;
const BATCH = 64;

/** Every model directory (one holding model.json) under models/, at any depth, sorted. */
function modelDirs(dir: string): string[] {
  const found: string[] = existsSync(join(dir, 'model.json')) ? [dir] : [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  ))
    if (entry.isDirectory()) found.push(...modelDirs(join(dir, entry.name)));
  return found;
}

/** 256 test images per dataset, loaded once: the golden subset's first 256 (CIFAR-10: 26 per class, first 256). */
const inputs = new Map<string, Promise<Dataset & { order: ArrayLike<number> }>>();
function testImages(dataset: CommittedModel['dataset']) {
  if (!inputs.has(dataset))
    inputs.set(
      dataset,
      (async () => {
        if (dataset === 'cifar10-jpeg') {
          // NOTE: the limited load decodes 260 JPEGs, not the 10,000 of the whole split.
          const ds = await loadCifar10Jpeg({ split: 'test', limit: 26 });
          return { ...ds, order: Uint32Array.from({ length: IMAGES }, (_, i) => i) };
        }
        const ds = await testSplit(dataset);
        return { ...ds, order: goldenSubset(ds.count).slice(0, IMAGES) };
      })(),
    );
  return inputs.get(dataset)!;
}

const dirs = modelDirs(join(REPO_ROOT, 'models'));

describe('ONNX export parity: committed models under onnxruntime-node', () => {
  test('finds the committed models', () => expect(dirs.length).toBeGreaterThanOrEqual(27));

  for (const dir of dirs) {
    const name = relative(join(REPO_ROOT, 'models'), dir);
    // Read at collection time, so a missing dataset shows as a skip with its reason, as the goldens do.
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const dataset: CommittedModel['dataset'] = json.provenance.dataset.name;
    const random = (json.defense?.stages ?? []).some((s: { kind: string }) => s.kind === 'random');

    const exported = async () => {
      const { manifest, tensors } = await loadModelDir(dir);
      const options: ExportOptions = { defense: manifest.defense as ExportOptions['defense'] };
      const classes = manifest.classes.length;
      const run = () =>
        exportOnnx(manifest.layers, tensors, manifest.input.shape, classes, options);
      return { manifest, tensors, classes, run };
    };

    if (random) {
      test(`${name}: its random gradient-inhibition stage is refused`, async () => {
        const { run } = await exported();
        expect(run).toThrow(OnnxError);
        expect(run).toThrow(/random/);
      });
      continue;
    }
    const why = missingData(dataset);
    if (why) console.warn(`skipping the ONNX export parity of ${name}: ${why}`);
    test.skipIf(why !== null)(
      `${name}: onnxruntime gives hashguard's logits`,
      async () => {
        const { manifest, tensors, classes, run } = await exported();
        const images = await testImages(dataset);
        const model = new Sequential(manifest.input.shape, manifest.layers, tensors);
        const ours = new Float32Array(IMAGES * classes);
        for (let start = 0; start < IMAGES; start += BATCH) {
          const { x: xb } = gatherBatch(images, images.order, start, BATCH);
          ours.set(noGrad(() => model.forward(xb)).data, start * classes);
        }
        const { x } = gatherBatch(images, images.order, 0, IMAGES);
        const session = await ortSession(run());
        const theirs = await ortRun(
          session,
          x.data as Float32Array,
          IMAGES,
          manifest.input.shape,
          BATCH,
        );
        await session.release();
        const worst = expectBatchesClose(ours, theirs, classes, BATCH, REL, name);
        console.log(`${name}: worst batch max|diff| / max|logit| = ${worst.toExponential(2)}`);
      },
      60_000,
    );
  }
});

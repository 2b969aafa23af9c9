// Import parity: each PyTorch-exported file of test/fixtures/onnx (scripts/onnx-fixtures.py) imported by importOnnx
// and run by hashguard gives onnxruntime-node's outputs of the original file on 1,000 MNIST test images; the file
// with an op hashguard has no layer for is refused by name; external data reads through the caller's reader.
import { beforeAll, describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad } from '../../src/autodiff/grad.ts';
import type { Dataset } from '../../src/data/index.ts';
import { gatherBatch } from '../../src/nn/batches.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { importOnnx, OnnxError, type ImportedOnnx } from '../../src/onnx/index.ts';
import { goldenSubset, REPO_ROOT, testSplit } from '../helpers/committed-models.ts';
import {
  argmaxAccuracy,
  expectBatchesClose,
  logSoftmaxRows,
  ortRun,
  ortSession,
  softmaxRows,
} from './parity-ort.ts';

const DIR = join(REPO_ROOT, 'test/fixtures/onnx');
/** The tolerance: per batch, max |hashguard − onnxruntime| ≤ REL × max |onnxruntime|. */
const REL = 1e-4;
const IMAGES = 1000;
const BATCH = 100;
/** hashguard's accuracy on the subset may sit this far from PyTorch's on the full split (manifest). */
const ACCURACY_SLACK = 0.04;

interface FixtureEntry {
  sha256: string;
  opset: number;
  producer: string;
  ops: string[];
  input: { name: string; shape: (number | string)[] };
  output: { name: string; shape: (number | string)[]; kind: ImportedOnnx['output'] };
  torchTestAccuracy: number;
  importInputShape?: [number, number, number];
  /** External data files beside the model, by location: their sha256. */
  externalData?: Record<string, string>;
  unsupported?: { node: string; op: string };
}
const manifest: { files: Record<string, FixtureEntry> } = JSON.parse(
  readFileSync(join(DIR, 'manifest.json'), 'utf8'),
);
const bytesOf = (file: string) => new Uint8Array(readFileSync(join(DIR, file)));
const readExternal = (location: string) => bytesOf(location);

let mnist: Dataset;
let x: Float32Array;
let labels: Uint8Array;
beforeAll(async () => {
  mnist = await testSplit('mnist');
  const batch = gatherBatch(mnist, goldenSubset(mnist.count), 0, IMAGES);
  x = batch.x.data as Float32Array;
  labels = Uint8Array.from(batch.y.data);
});

/** hashguard's class scores for the subset, in BATCH-row forwards, as [IMAGES, classes] flat. */
function hashguardLogits(imported: ImportedOnnx): Float32Array {
  const model = new Sequential(imported.inputShape, imported.layers, imported.params);
  const out = new Float32Array(IMAGES * imported.classes);
  const order = Uint32Array.from({ length: IMAGES }, (_, i) => i);
  const subset = { images: x, labels, shape: imported.inputShape, count: IMAGES };
  for (let start = 0; start < IMAGES; start += BATCH) {
    const { x: xb } = gatherBatch(subset, order, start, BATCH);
    out.set(noGrad(() => model.forward(xb)).data, start * imported.classes);
  }
  return out;
}

/** What the original graph returns, computed from hashguard's logits. */
function asGraphOutput(logits: Float32Array, imported: ImportedOnnx): Float32Array {
  if (imported.output === 'log-softmax') return logSoftmaxRows(logits, imported.classes);
  if (imported.output === 'softmax') return softmaxRows(logits, imported.classes);
  return logits;
}

const supported = Object.entries(manifest.files).filter(([, e]) => !e.unsupported);

describe('ONNX import parity with onnxruntime-node (PyTorch 1.13 TorchScript exporter files)', () => {
  test('the manifest lists every fixture file and their bytes match its sha256', () => {
    expect(supported.length).toBeGreaterThanOrEqual(9);
    const sha256 = (file: string) => createHash('sha256').update(bytesOf(file)).digest('hex');
    for (const [file, e] of Object.entries(manifest.files)) {
      expect(`${file} ${sha256(file)}`).toBe(`${file} ${e.sha256}`);
      for (const [data, hash] of Object.entries(e.externalData ?? {}))
        expect(`${data} ${sha256(data)}`).toBe(`${data} ${hash}`);
    }
  });

  for (const [file, e] of supported)
    test(`${file} (opset ${e.opset}: ${e.ops.join(' ')})`, async () => {
      const bytes = bytesOf(file);
      const imported = importOnnx(bytes, {
        inputShape: e.importInputShape,
        externalData: e.externalData ? readExternal : undefined,
      });
      expect(imported.inputShape).toEqual(e.importInputShape ?? [1, 28, 28]);
      expect(imported.classes).toBe(10);
      expect(imported.output).toBe(e.output.kind);
      expect(imported.opset).toBe(e.opset);
      expect(imported.producer).toContain('pytorch');

      const ours = asGraphOutput(hashguardLogits(imported), imported);
      // The path, not the bytes, so onnxruntime finds external data beside the file.
      const session = await ortSession(join(DIR, file));
      const dims = e.input.shape.slice(1).map(Number);
      const fixedBatch = typeof e.input.shape[0] === 'number' ? e.input.shape[0] : BATCH;
      const theirs = await ortRun(session, x, IMAGES, dims, fixedBatch);
      await session.release();

      // The fixture and the input convention (pixels x/255, normalization inside the graph) are right when
      // onnxruntime scores the subset about as PyTorch scored the full split.
      expect(
        Math.abs(argmaxAccuracy(theirs, labels, 10) - e.torchTestAccuracy),
      ).toBeLessThanOrEqual(ACCURACY_SLACK);
      const worst = expectBatchesClose(ours, theirs, 10, BATCH, REL, file);
      console.log(`${file}: worst batch max|diff| / max|output| = ${worst.toExponential(2)}`);
    }, 60_000);

  test('lenet-external.onnx (initializers in lenet-external.data) gives exactly lenet.onnx’s logits', () => {
    const external = importOnnx(bytesOf('lenet-external.onnx'), { externalData: readExternal });
    const inline = importOnnx(bytesOf('lenet.onnx'));
    expect(external.layers).toEqual(inline.layers);
    expect(hashguardLogits(external)).toEqual(hashguardLogits(inline));
  });

  test('lenet-external.onnx without an external data reader is refused, naming the data file', () => {
    expect(() => importOnnx(bytesOf('lenet-external.onnx'))).toThrow(OnnxError);
    expect(() => importOnnx(bytesOf('lenet-external.onnx'))).toThrow(/lenet-external\.data/);
  });

  test('unsupported.onnx is refused with an OnnxError naming the node, its op type and the opset', () => {
    const e = manifest.files['unsupported.onnx'];
    expect(e.unsupported).toEqual({ node: '/1/Softplus', op: 'Softplus' });
    let error: unknown;
    try {
      importOnnx(bytesOf('unsupported.onnx'), { inputShape: e.importInputShape });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(OnnxError);
    const message = (error as Error).message;
    expect(message).toContain(e.unsupported!.node);
    expect(message).toContain(e.unsupported!.op);
    expect(message).toMatch(new RegExp(`opset\\D{0,4}${e.opset}\\b`, 'i'));
  });
});

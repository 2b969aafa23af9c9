// `hashguard eval`: load a model directory (verifying its checksum) and report its clean accuracy, the
// backend that computed it and the throughput.
import { loadDataset, type DatasetName } from '../data/index.ts';
import { loadModelDir } from '../io/model-dir.ts';
import { gatherBatch } from '../nn/batches.ts';
import { accuracy } from '../nn/evaluate.ts';
import { Sequential } from '../nn/sequential.ts';
import { choice, number, parse, requireString } from './args.ts';
import { BACKEND_NAMES, useBackend } from './backend-flag.ts';
import { threadsFlag, withWorkers } from './threads-flag.ts';

export const evalUsage = 'usage: bun run eval -- --model models/NAME [--limit N] [--backend wasm|reference] [--threads N]';

export async function evalCommand(argv: string[]): Promise<void> {
  const v = parse(argv, { model: { type: 'string' }, limit: { type: 'string' }, backend: { type: 'string' }, threads: { type: 'string' } });
  const dir = requireString(v, 'model');
  const backend = useBackend(choice(v, 'backend', BACKEND_NAMES, 'wasm'));
  const threads = threadsFlag(v, backend);
  const { manifest, tensors } = await loadModelDir(dir);
  const model = new Sequential(manifest.input.shape, manifest.layers, tensors);
  const data = await loadDataset(manifest.provenance.dataset.name as DatasetName, { seed: manifest.provenance.seed });
  const limit = number(v, 'limit', data.test.count, { integer: true, min: 1, max: data.test.count });
  const order = Uint32Array.from({ length: limit }, (_, i) => i);
  const t0 = performance.now();
  const r = await withWorkers(threads, async (pool) => {
    if (!pool) return accuracy(model, data.test, order);
    let correct = 0;
    for (let start = 0; start < limit; start += 256) {
      const { x, y } = gatherBatch(data.test, order, start, 256);
      const logits = await pool.forward(model, x);
      const k = logits.shape[1];
      for (let i = 0; i < y.size; i++) {
        let best = 0;
        for (let j = 1; j < k; j++) if (logits.data[i * k + j] > logits.data[i * k + best]) best = j;
        if (best === y.data[i]) correct++;
      }
    }
    return { accuracy: correct / limit, correct, count: limit };
  });
  const seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({
    model: manifest.name, testAccuracy: r.accuracy, correct: r.correct, count: r.count, recorded: manifest.metrics.testAccuracy,
    backend: backend.name, threads, imagesPerSec: Math.round(r.count / seconds),
  }));
}

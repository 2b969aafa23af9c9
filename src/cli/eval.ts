// `hashguard eval`: load a model directory (verifying its checksum) and report its clean accuracy.
import { loadDataset, type DatasetName } from '../data/index.ts';
import { loadModelDir } from '../io/model-dir.ts';
import { accuracy } from '../nn/evaluate.ts';
import { Sequential } from '../nn/sequential.ts';
import { number, parse, requireString } from './args.ts';

export const evalUsage = 'usage: bun run eval -- --model models/NAME [--limit N]';

export async function evalCommand(argv: string[]): Promise<void> {
  const v = parse(argv, { model: { type: 'string' }, limit: { type: 'string' } });
  const dir = requireString(v, 'model');
  const { manifest, tensors } = await loadModelDir(dir);
  const model = new Sequential(manifest.input.shape, manifest.layers, tensors);
  const data = await loadDataset(manifest.provenance.dataset.name as DatasetName, { seed: manifest.provenance.seed });
  const limit = number(v, 'limit', data.test.count, { integer: true, min: 1, max: data.test.count });
  const order = Uint32Array.from({ length: limit }, (_, i) => i);
  const r = accuracy(model, data.test, order);
  console.log(JSON.stringify({ model: manifest.name, testAccuracy: r.accuracy, correct: r.correct, count: r.count, recorded: manifest.metrics.testAccuracy }));
}

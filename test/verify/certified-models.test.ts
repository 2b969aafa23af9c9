// The committed certified-trained model against its targets, on the full MNIST test split: the share of images
// interval bound propagation certifies at ε 0.3 and 0.1 (docs/verify.md). A model below its target stays a KNOWN
// GAP with the target unchanged (the test then expects the shortfall, and flags the day it closes).
// The split is certified in chunks on every core (the worker pool's certify task: the same certificates as one
// thread, tested in test/cli/certify-cli.test.ts).
import { afterAll, describe, expect, test } from 'bun:test';
import { loadDataset } from '../../src/data/node.ts';
import { loadModelDir } from '../../src/io/model-dir.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { WorkerPool } from '../../src/parallel/index.ts';

interface CertifiedBar {
  dir: string;
  eps: number;
  minCertified: number;
  knownGap?: string;
}
const BARS: CertifiedBar[] = [
  {
    dir: 'models/mnist-cnn-ibp',
    eps: 0.3,
    minCertified: 0.89,
    knownGap:
      'mnist-cnn-ibp: 85.36% certified at ε 0.3 after 40 epochs of IBP training, target 89%',
  },
  {
    dir: 'models/mnist-cnn-ibp',
    eps: 0.1,
    minCertified: 0.95,
    knownGap: 'mnist-cnn-ibp: 94.15% certified at ε 0.1, target 95%',
  },
  {
    dir: 'models/mnist-cnn-h8-ibp',
    eps: 0.3,
    minCertified: 0.8,
    knownGap:
      'mnist-cnn-h8-ibp: 73.25% certified at ε 0.3 after 20 epochs of IBP training, target 80%',
  },
];

let pool: WorkerPool | null = null;
afterAll(() => pool?.close());

/** How many of the images IBP certifies at eps (range [0, 1]), in chunks of CHUNK rows kept busy on every worker. */
async function certifiedCount(
  model: Sequential,
  images: Float32Array,
  labels: ArrayLike<number>,
  count: number,
  eps: number,
): Promise<number> {
  const CHUNK = 250;
  pool ??= new WorkerPool();
  const p = pool;
  const size = images.length / count;
  let next = 0,
    certified = 0;
  const lane = async (worker: number) => {
    for (let a = next; a < count; a = next) {
      const b = Math.min(count, a + CHUNK);
      next = b;
      const r = await p.certify(
        model,
        {
          x: images.slice(a * size, b * size),
          labels: Int32Array.from({ length: b - a }, (_, i) => labels[a + i]),
          n: b - a,
          eps,
          method: 'ibp',
          range: [0, 1],
          randomness: {},
          radius: false,
        },
        worker,
      );
      for (const c of r.certified) certified += c;
    }
  };
  await Promise.all(Array.from({ length: p.size }, (_, w) => lane(w)));
  return certified;
}

describe('certified-trained models', () => {
  for (const bar of BARS) {
    const title = `${bar.dir}: IBP certifies at least ${100 * bar.minCertified}% of the test split at ε ${bar.eps}`;
    const body = async () => {
      const { manifest, tensors } = await loadModelDir(bar.dir);
      const model = new Sequential(manifest.input.shape, manifest.layers, tensors);
      const { test: data } = await loadDataset('mnist');
      const certified = await certifiedCount(model, data.images, data.labels, data.count, bar.eps);
      console.log(
        `certified bar: ${bar.dir} ε ${bar.eps}: ${((100 * certified) / data.count).toFixed(2)}% of ${data.count}`,
      );
      expect(certified / data.count).toBeGreaterThanOrEqual(bar.minCertified);
    };
    if (bar.knownGap) test.failing(`KNOWN GAP (${bar.knownGap}) ${title}`, body, 600_000);
    else test(title, body, 600_000);
  }
});

// `bun bench/detect-store.ts`: the query-attack detector's in-memory store in isolation (docs/detection.md): the
// time of one observe() (match, then store) per query with the store full at its default size, for the serving
// bench's traffic (1,024 MNIST digits repeated) and for 10,000 distinct digits. Prints; writes nothing.
import { scriptFlags } from '../src/cli/index.ts';
import { loadDataset } from '../src/data/node.ts';
import { fingerprint } from '../src/hash/index.ts';
import { DEFAULT_DETECT, DEFAULT_DETECT_SEED, MemoryDetectStore } from '../src/serve/index.ts';

scriptFlags(`usage: bun bench/detect-store.ts
  Prints the in-memory detector store's time per query (match and store) once it is full, for 1,024 repeated
  MNIST digits (the serving bench's traffic) and for 10,000 distinct ones (docs/detection.md).`);
const { test } = await loadDataset('mnist');
const params = { ...DEFAULT_DETECT.fingerprint, seed: DEFAULT_DETECT_SEED };
const fingerprints = (count: number) =>
  Array.from({ length: count }, (_, i) =>
    fingerprint(test.images.subarray(i * 784, (i + 1) * 784), [1, 28, 28], params),
  );
// 997 clients in turn (a prime, so a client's queries are different digits); the first pass fills the store.
const CLIENTS = 997,
  FILL = DEFAULT_DETECT.maxQueries + 5_000,
  TIMED = 20_000;
for (const distinct of [1024, 10_000]) {
  const all = fingerprints(distinct);
  const store = new MemoryDetectStore({ ...DEFAULT_DETECT, topK: params.topK });
  let now = 1;
  for (let i = 0; i < FILL; i++) await store.observe(`c${i % CLIENTS}`, [all[i % distinct]], now++);
  const start = performance.now();
  for (let i = 0; i < TIMED; i++)
    await store.observe(`c${i % CLIENTS}`, [all[i % distinct]], now++);
  const us = ((performance.now() - start) / TIMED) * 1000;
  console.log(
    `${distinct} distinct digits: ${us.toFixed(1)} µs per query (store full, ${store.usage().queries} queries)`,
  );
}

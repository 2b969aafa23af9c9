// Rewrites test/golden/hash-vectors.json: xxh32 vectors computed by the independent reference (xxhashjs),
// plus HashedNets bucket/sign and counter-RNG draws pinned from src/hash. Run only on purpose:
//   bun scripts/make-hash-goldens.ts
import { refXxh32 } from '../test/helpers/ref-xxh32.ts';
import { join } from 'node:path';
import { hashBucket, hashSign, normal, randomU32, uniform } from '../src/hash/index.ts';
import { writeFileAtomic } from '../src/io/index.ts';
import { scriptFlags } from '../src/cli/index.ts';

scriptFlags(
  'usage: bun scripts/make-hash-goldens.ts   (rewrites test/golden/hash-vectors.json; run only on purpose; no flags)',
);
const edge = [0, 1, 2, 0x7fffffff, 0x80000000, 0xffffffff, 0x9e3779b9, 0x2545f491];
const xxh32 = edge.flatMap((a) =>
  edge.map((b, k) => ({
    a,
    b,
    seed: edge[(k + 3) % edge.length],
    h: refXxh32(a, b, edge[(k + 3) % edge.length]),
  })),
);
const hashed = [
  [0, 0, 1, 29400],
  [299, 783, 1, 29400],
  [5, 17, 0xdeadbeef, 7],
  [119, 399, 42, 6000],
  [0, 149, 3, 1],
].map(([i, j, seed, buckets]) => ({
  i,
  j,
  seed,
  buckets,
  bucket: hashBucket(i, j, seed, buckets),
  sign: hashSign(i, j, seed),
}));
const rng = [0, 1, 0x6a09e667, 0xffffffff].flatMap((stream) =>
  [0, 1, 2, 1000, 0x7fffffff].map((counter) => ({
    stream,
    counter,
    u32: randomU32(stream, counter),
    uniform: uniform(stream, counter),
    normal: normal(stream, counter),
  })),
);
const file = join(import.meta.dir, '../test/golden/hash-vectors.json');
await writeFileAtomic(file, JSON.stringify({ xxh32, hashed, rng }, null, 1) + '\n');
console.log(`wrote ${file}`);

// The audit's images: a seeded permutation of the test split, its first n images, the first nQuery of them the
// query subset, and the sha256 of the indices that names the subset in the report.
import { deriveStream, permutation, sha256Hex } from '../hash/index.ts';
import { gatherBatch, type ImageSet } from '../nn/index.ts';

/** The audit's seeded subset of the test split: n images, the first nQuery of them the query subset. */
export async function auditSubset(test: ImageSet, seed: number, n: number, nQuery: number) {
  const indices = permutation(deriveStream(seed, 0x61756474), test.count).slice(0, n); // 'audt'
  const indexSha256 = await sha256Hex(
    new Uint8Array(indices.buffer, indices.byteOffset, indices.byteLength),
  );
  const { x, y } = gatherBatch(test, indices, 0, n);
  const nq = Math.min(nQuery, n);
  const { x: xq, y: yq } = gatherBatch(test, indices, 0, nq);
  return { x, y, xq, yq, nq, labels: Array.from(y.data, Math.round), indexSha256 };
}

// `bun bench/detect-fingerprints.ts`: the measurement behind the detector's fingerprint (docs/detection.md):
// for candidate fingerprints on MNIST test images, the share of hashes kept under dense L∞ 0.05 noise and random
// ±0.05 signs, and the largest share two different images have in common. Prints a table; writes nothing.
import { scriptFlags } from '../src/cli/index.ts';
import { loadDataset } from '../src/data/node.ts';
import { fingerprint, sharedHashes, uniform, xxh32 } from '../src/hash/index.ts';

type Fp = (x: ArrayLike<number>) => Uint32Array;

/** Blacklight-style: quantized pixels (round to `levels`), windows of `w` consecutive pixels, the 50 smallest hashes. */
const pixelWindows =
  (levels: number, w: number): Fp =>
  (x) => {
    const q = Array.from(x, (v) => Math.min(levels - 1, Math.round(Math.max(0, v) * (levels - 1))));
    const hs = new Set<number>();
    for (let i = 0; i + w <= q.length; i++) {
      let h = 0;
      for (let j = 0; j < w; j++) h = xxh32(h, q[i + j], 1);
      hs.add(h);
    }
    return Uint32Array.from(hs).sort().subarray(0, 50);
  };

/** Raw pixel patches a×a, quantized to `levels`, flat ones left out, the 50 smallest hashes. */
const pixelPatches =
  (levels: number, a: number): Fp =>
  (x) => {
    const q = Array.from(x, (v) => Math.min(levels - 1, Math.round(Math.max(0, v) * (levels - 1))));
    const hs = new Set<number>();
    for (let y = 0; y + a <= 28; y++)
      for (let c = 0; c + a <= 28; c++) {
        let h = 0,
          flat = true;
        for (let dy = 0; dy < a; dy++)
          for (let dx = 0; dx < a; dx++) {
            const v = q[(y + dy) * 28 + c + dx];
            if (v !== q[y * 28 + c]) flat = false;
            h = xxh32(h, v, 1);
          }
        if (!flat) hs.add(h);
      }
    return Uint32Array.from(hs).sort().subarray(0, 50);
  };

const pooled =
  (pool: number): Fp =>
  (x) =>
    fingerprint(x, [1, 28, 28], { pool, step: 0.25, patch: 2, tables: 2, topK: 128, seed: 1 });

const CANDIDATES: [string, Fp][] = [
  ['Blacklight: 6 levels, windows of 20 pixels, top 50', pixelWindows(6, 20)],
  ['raw 4×4 pixel patches, 4 levels', pixelPatches(4, 4)],
  ['pooled cells 4×4 px, step 0.25, 2×2 patches, 2 grids', pooled(4)],
  ['pooled cells 2×2 px, step 0.25, 2×2 patches, 2 grids (default)', pooled(2)],
];

scriptFlags(`usage: bun bench/detect-fingerprints.ts
  Prints, for candidate query fingerprints on 300 MNIST test images, the share of hashes kept under dense
  L∞ 0.05 noise and random ±0.05 signs and the largest share of different images (docs/detection.md).`);
const { test } = await loadDataset('mnist');
const image = (i: number) => test.images.subarray(i * 784, (i + 1) * 784);
const clip = (v: number) => Math.min(1, Math.max(0, v));
const share = (a: Uint32Array, b: Uint32Array) =>
  sharedHashes(a, b) / Math.max(1, Math.min(a.length, b.length));
const q = (a: number[], k: number) => [...a].sort((p, r) => p - r)[Math.floor(k * (a.length - 1))];
console.log(
  '| fingerprint | dense L∞ 0.05 noise (min / median) | random ±0.05 signs (min / median) | different images (max) |',
);
console.log('|---|---|---|---|');
for (const [name, fp] of CANDIDATES) {
  const noise: number[] = [],
    signs: number[] = [],
    diff: number[] = [];
  for (let i = 0; i < 300; i++) {
    const x = image(i),
      f = fp(x);
    noise.push(share(f, fp(Float32Array.from(x, (v, j) => clip(v + (uniform(i, j) - 0.5) * 0.1)))));
    signs.push(
      share(
        f,
        fp(Float32Array.from(x, (v, j) => clip(v + (uniform(i + 7777, j) < 0.5 ? -0.05 : 0.05)))),
      ),
    );
    for (let k = 1; k <= 5; k++) diff.push(share(f, fp(image((i * 7 + k * 131) % 10_000))));
  }
  const r = (v: number) => v.toFixed(2);
  console.log(
    `| ${name} | ${r(q(noise, 0))} / ${r(q(noise, 0.5))} | ${r(q(signs, 0))} / ${r(q(signs, 0.5))} | ${r(q(diff, 1))} |`,
  );
}

// Prints one JSON line: the sha256 of the query fingerprints of fixed inputs (seeded images in [0, 1], edge
// values, grey and RGB shapes) under the detector's default settings, so every runtime can be compared.
import { fingerprint, sha256Hex, uniform } from '../../src/hash/index.ts';
import { DEFAULT_DETECT, DEFAULT_DETECT_SEED } from '../../src/serve/detect/settings.ts';

const params = { ...DEFAULT_DETECT.fingerprint, seed: DEFAULT_DETECT_SEED };
const inputs: [number[], Float32Array][] = [];
for (let i = 0; i < 20; i++) {
  const shape = i % 2 ? [3, 32, 32] : [1, 28, 28];
  const n = shape[0] * shape[1] * shape[2];
  inputs.push([shape, Float32Array.from({ length: n }, (_, j) => uniform(i, j) ** 3)]);
}
inputs.push([[1, 28, 28], Float32Array.from({ length: 784 }, (_, j) => [NaN, -1, 2, 0.5][j % 4])]);
inputs.push([[784], Float32Array.from({ length: 784 }, (_, j) => (j % 7) / 7)]);
const words: number[] = [];
for (const [shape, x] of inputs) {
  const f = fingerprint(x, shape, params);
  words.push(f.length, ...f);
}
const bytes = new Uint8Array(Uint32Array.from(words).buffer);
console.log(JSON.stringify({ sha256: await sha256Hex(bytes), words: words.length }));

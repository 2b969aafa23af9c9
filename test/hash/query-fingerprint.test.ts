// Query fingerprints under the detector's default settings, on real test images: a query matches itself and
// its L∞-0.05 perturbations, different test images do not match, and every runtime computes the same bits.
import { describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset } from '../../src/data/node.ts';
import {
  deriveStream,
  fingerprint,
  fingerprintsMatch,
  randomInt,
  sharedHashes,
  uniform,
} from '../../src/hash/index.ts';
import { DEFAULT_DETECT, DEFAULT_DETECT_SEED } from '../../src/serve/index.ts';

const params = { ...DEFAULT_DETECT.fingerprint, seed: DEFAULT_DETECT_SEED };
const { matchShare, matchLeast } = DEFAULT_DETECT;
const SHAPE = [1, 28, 28];
const { test: mnist } = await loadDataset('mnist');
const image = (i: number) => mnist.images.subarray(i * 784, (i + 1) * 784);
const fp = (x: ArrayLike<number>) => fingerprint(x, SHAPE, params);
const match = (a: Uint32Array, b: Uint32Array) =>
  fingerprintsMatch(sharedHashes(a, b), a.length, b.length, matchShare, matchLeast);
const clip = (v: number) => Math.min(1, Math.max(0, v));

describe('query fingerprints (default detector settings)', () => {
  test('ascending, distinct, at most topK hashes; a blank image has none', () => {
    for (let i = 0; i < 50; i++) {
      const f = fp(image(i));
      expect(f.length).toBeGreaterThan(matchLeast);
      expect(f.length).toBeLessThanOrEqual(params.topK);
      for (let k = 1; k < f.length; k++) expect(f[k]).toBeGreaterThan(f[k - 1]);
    }
    expect(fp(new Float32Array(784)).length).toBe(0);
  });

  test('the same input twice matches (every hash shared)', () => {
    for (let i = 0; i < 100; i++) {
      const a = fp(image(i)),
        b = fp(Float32Array.from(image(i)));
      expect(b).toEqual(a);
      expect(match(a, b)).toBe(true);
    }
  });

  test('an L∞ perturbation of 0.05 matches: uniform noise and random signs on 200 test images', () => {
    for (let i = 0; i < 200; i++) {
      const x = image(i),
        f = fp(x);
      const noise = Float32Array.from(x, (v, j) => clip(v + (uniform(i, j) - 0.5) * 0.1));
      const signs = Float32Array.from(x, (v, j) =>
        clip(v + (uniform(i + 1e6, j) < 0.5 ? -0.05 : 0.05)),
      );
      for (const y of [noise, signs]) {
        let worst = 0;
        for (let j = 0; j < 784; j++) worst = Math.max(worst, Math.abs(y[j] - x[j]));
        expect(worst).toBeLessThanOrEqual(0.05 + 1e-6);
        expect(match(f, fp(y)), `image ${i}`).toBe(true);
      }
    }
  });

  test('10,000 pairs of different test images do not match', () => {
    const cache = new Map<number, Uint32Array>();
    const get = (i: number) => cache.get(i) ?? cache.set(i, fp(image(i))).get(i)!;
    const s = deriveStream(7, 0x70616972);
    let matched = 0;
    for (let k = 0; k < 10_000; k++) {
      const i = randomInt(s, 2 * k, 10_000);
      let j = randomInt(s, 2 * k + 1, 10_000);
      if (j === i) j = (j + 1) % 10_000;
      if (match(get(i), get(j))) matched++;
    }
    expect(matched).toBe(0);
  });

  test('a shifted copy is a different query (positions are hashed)', () => {
    let matched = 0;
    for (let i = 0; i < 100; i++) {
      const x = image(i),
        shifted = new Float32Array(784);
      for (let y = 0; y < 28; y++)
        for (let c = 2; c < 28; c++) shifted[y * 28 + c] = x[y * 28 + c - 2];
      if (match(fp(x), fp(shifted))) matched++;
    }
    expect(matched).toBeLessThan(10);
  });

  test('every level counts, at the finest step and in patches of more than four cells', () => {
    // Levels are packed four to a word: at step 1/254 the top levels (up to 255) must not spill into a neighbour
    // cell's byte, and a 3×3 patch (three words) must hash all nine cells. One cell moved by one level changes
    // the patches that hold it, and only those.
    for (const patch of [2, 3]) {
      const fine = { ...params, step: 1 / 254, patch, tables: 1, topK: 1024 };
      const x = new Float32Array(784);
      for (let j = 0; j < 784; j++) x[j] = 0.9 + (0.1 * ((j * 37) % 11)) / 10;
      const y = Float32Array.from(x);
      const cell = 13 * 14 + 7; // cell (7, 13) of the 14×14 grid: pixels (14..15, 26..27)
      for (const j of [14 * 28 + 26, 14 * 28 + 27, 15 * 28 + 26, 15 * 28 + 27]) y[j] = 1; // raise its mean
      const a = fingerprint(x, SHAPE, fine),
        b = fingerprint(y, SHAPE, fine);
      // Patches holding the cell: up to patch² of them (fewer at the grid's edge); every other hash is shared.
      const holding = patch * Math.min(patch, 14 - 13);
      expect(cell).toBe(189);
      expect(a.length - sharedHashes(a, b)).toBe(holding);
    }
  });
});

describe('query fingerprints are bit-exact in every runtime', () => {
  const root = join(import.meta.dir, '../..');
  const script = join(root, 'test/runtimes/fingerprint-script.ts');
  const run = (cmd: string[]) => {
    const r = Bun.spawnSync(cmd, { cwd: root, stdout: 'pipe', stderr: 'pipe' });
    const out = r.stdout.toString().trim().split('\n').at(-1) ?? '';
    if (r.exitCode !== 0 || !out.startsWith('{'))
      throw new Error(`${cmd.join(' ')} failed (${r.exitCode}):\n${r.stderr.toString()}`);
    return JSON.parse(out) as { sha256: string; words: number };
  };
  test('Bun, Deno and Node print the same fingerprints', () => {
    const bun = run([process.execPath, script]);
    expect(bun.words).toBeGreaterThan(1000);
    expect(run([join(root, 'node_modules/.bin/deno'), 'run', '--quiet', script])).toEqual(bun);
    const dir = mkdtempSync(join(tmpdir(), 'hashguard-fp-'));
    try {
      const out = join(dir, 'fp.mjs');
      const build = Bun.spawnSync(
        [process.execPath, 'build', script, '--target=node', '--outfile', out],
        { cwd: root, stderr: 'pipe' },
      );
      expect(build.exitCode).toBe(0);
      expect(run(['node', out])).toEqual(bun);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

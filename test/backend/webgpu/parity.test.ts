// WGSL kernels against the TypeScript originals on a real adapter (here Dawn OpenGL ES on llvmpipe): hash and
// RNG bit-exact, normals and float kernels within the parity tolerance. Without an adapter the suite skips
// with one line naming what enables it, and fails under CI=true: a silent skip would hide a broken backend.
import { afterAll, describe, expect, test } from 'bun:test';
import * as ops from '../../../src/autodiff/ops.ts';
import { referenceBackend, withBackend } from '../../../src/backend/index.ts';
import { bucketsFor, hashTable } from '../../../src/hash/hashed-nets.ts';
import { normal, randomU32, uniform } from '../../../src/hash/rng.ts';
import { randomTensor } from '../../helpers/random.ts';
import {
  adapterAvailableTest,
  expectBitExact,
  expectClose,
  f32,
  kernelRunner,
  parityGpu,
  SEEDS,
} from '../../helpers/webgpu-parity.ts';

const device = await parityGpu('webgpu parity');
const gpu = device.gpu;
afterAll(() => gpu?.device.destroy());
const run = kernelRunner(gpu);

describe('webgpu parity', () => {
  adapterAvailableTest(device);

  describe.skipIf(!gpu)('kernels', () => {
    test('hash-table: buckets and signs bit-exact against src/hash, several seeds and bucket counts', async () => {
      const [rows, cols] = [37, 101];
      for (const seed of SEEDS)
        for (const buckets of [1, 97, bucketsFor(1 / 8, rows, cols), 0xffffffff]) {
          const out = await run('hash-table', { rows, cols, seed, buckets });
          const want = hashTable(rows, cols, seed, buckets);
          expectBitExact(`bucket seed=${seed} K=${buckets}`, out.bucket, want.bucket);
          expectBitExact(`sign seed=${seed} K=${buckets}`, out.sign, Float32Array.from(want.sign));
        }
    });

    test('hash-table: grids wrapped into y and other workgroup sizes give the same table', async () => {
      const params = { rows: 50, cols: 61, seed: 7, buckets: 300 };
      const want = hashTable(50, 61, 7, 300);
      for (const [WG, cap] of [
        [64, 7],
        [1, 65535],
        [256, 4],
        [16, 20],
      ]) {
        const out = await run(
          'hash-table',
          params,
          {},
          { constants: { WG }, maxWorkgroupsPerDimension: cap },
        );
        expectBitExact(`bucket WG=${WG} cap=${cap}`, out.bucket, want.bucket);
      }
    });

    test('rng-fill: u32 and uniform bit-exact, normal within 1e-5, several streams', async () => {
      const count = 4099;
      for (const stream of [...SEEDS, 0x6a09e667]) {
        const out = await run('rng-fill', { count, stream });
        const idx = Array.from({ length: count }, (_, c) => c);
        expectBitExact(
          `u32 stream=${stream}`,
          out.bits,
          idx.map((c) => randomU32(stream, c)),
        );
        expectBitExact(
          `uniform stream=${stream}`,
          out.uniforms,
          Float32Array.from(idx, (c) => uniform(stream, c)),
        );
        // WGSL log/cos precision is implementation-defined (docs/design.md §3): per element, relative to max(1, |want|).
        const want = idx.map((c) => normal(stream, c));
        let worst = 0;
        for (let c = 0; c < count; c++)
          worst = Math.max(
            worst,
            Math.abs(out.normals[c] - want[c]) / Math.max(1, Math.abs(want[c])),
          );
        expect(worst).toBeLessThan(1e-5);
      }
    });

    test('relu matches the reference (exactly: it is a select)', async () => {
      const x = randomTensor([3, 1000], -2, 2, 'f32');
      x.data[0] = 0;
      x.data[1] = -0;
      const out = await run('relu', { size: x.size }, { x: f32(x) });
      const want = f32(referenceBackend.unary('relu', x));
      expectClose('relu', out.y, want);
      expectBitExact('relu', out.y, want);
    });

    test('bias-add matches the reference on [N, C] and NCHW', async () => {
      for (const shape of [
        [7, 13],
        [3, 5, 6, 7],
        [2, 1, 4, 4],
      ]) {
        const x = randomTensor(shape, -1, 1, 'f32');
        const b = randomTensor([shape[1]], -1, 1, 'f32');
        const spatial = shape.slice(2).reduce((a, d) => a * d, 1);
        const out = await run(
          'bias-add',
          { size: x.size, channels: shape[1], spatial },
          { x: f32(x), bias: f32(b) },
        );
        expectClose(`bias-add [${shape}]`, out.y, referenceBackend.biasAdd(x, b).data);
      }
    });

    test('dense matches reference matmul(x, Wᵀ) + b', async () => {
      for (const [batch, inDim, outDim] of [
        [5, 300, 37],
        [1, 1, 1],
        [16, 64, 10],
      ]) {
        const x = randomTensor([batch, inDim], -1, 1, 'f32');
        const w = randomTensor([outDim, inDim], -1, 1, 'f32');
        const b = randomTensor([outDim], -1, 1, 'f32');
        const out = await run(
          'dense',
          { batch, inDim, outDim },
          { x: f32(x), weight: f32(w), bias: f32(b) },
        );
        const want = referenceBackend.biasAdd(referenceBackend.matmul(x, w, false, true), b);
        expectClose(`dense ${batch}x${inDim}→${outDim}`, out.y, want.data);
      }
    });

    test('hashed-dense matches hashGather(w, hashTable) + reference matmul, several seeds', async () => {
      const [batch, inDim, outDim] = [4, 200, 30];
      const buckets = bucketsFor(1 / 8, outDim, inDim);
      const x = randomTensor([batch, inDim], -1, 1, 'f32');
      const w = randomTensor([buckets], -1, 1, 'f32');
      const b = randomTensor([outDim], -1, 1, 'f32');
      for (const seed of SEEDS) {
        const out = await run(
          'hashed-dense',
          { batch, inDim, outDim, buckets, seed },
          { x: f32(x), weight: f32(w), bias: f32(b) },
        );
        const V = withBackend(referenceBackend, () =>
          ops.hashGather(w, hashTable(outDim, inDim, seed, buckets), [outDim, inDim]),
        );
        const want = referenceBackend.biasAdd(referenceBackend.matmul(x, V, false, true), b);
        expectClose(`hashed-dense seed=${seed}`, out.y, want.data);
      }
    });

    test('empty dispatches return empty outputs; wrong input lengths are refused', async () => {
      const out = await run('relu', { size: 0 }, { x: new Float32Array(0) });
      expect(out.y.length).toBe(0);
      await expect(run('relu', { size: 4 }, { x: new Float32Array(3) })).rejects.toThrow(
        /needs 4 elements/,
      );
    });
  });
});

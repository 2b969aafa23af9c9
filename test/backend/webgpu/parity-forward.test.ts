// Forward WGSL kernels beyond dense (conv2d, hashed-conv2d, max-pool2d, softmax, log-softmax) against the reference
// CPU kernels on a real adapter (Dawn OpenGL ES on llvmpipe here); same skip rule as parity.test.ts. Selections
// (max-pool2d values and argmax) bit-exact, sums and transcendentals within the parity tolerance.
import { afterAll, describe, expect, test } from 'bun:test';
import { referenceBackend } from '../../../src/backend/index.ts';
import { bucketsFor, hashTable } from '../../../src/hash/hashed-nets.ts';
import { Tensor } from '../../../src/tensor/tensor.ts';
import { randomTensor } from '../../helpers/random.ts';
import {
  adapterAvailableTest,
  expectBitExact,
  expectClose,
  expectCloseEach,
  f32,
  kernelRunner,
  parityGpu,
  SEEDS,
} from '../../helpers/webgpu-parity.ts';

const device = await parityGpu('webgpu parity (forward)');
const gpu = device.gpu;
afterAll(() => gpu?.device.destroy());
const run = kernelRunner(gpu);

/** [batch, inChannels, height, width, outChannels, kernelSize, stride, padding]: odd sizes, stride > 1, wide padding. */
const CONV_CASES = [
  [2, 3, 8, 8, 4, 3, 1, 1],
  [2, 2, 7, 9, 3, 3, 2, 1],
  [1, 3, 6, 6, 2, 2, 2, 0],
  [1, 2, 4, 5, 2, 3, 3, 2],
  [1, 1, 5, 5, 1, 5, 1, 0],
  [1, 1, 1, 1, 1, 1, 1, 0],
  [3, 1, 28, 28, 6, 5, 1, 0],
];

const convParams = ([
  batch,
  inChannels,
  height,
  width,
  outChannels,
  kernelSize,
  stride,
  padding,
]: number[]) => ({ batch, inChannels, height, width, outChannels, kernelSize, stride, padding });

/** Values on a coarse grid (many exact ties) for the max-pool2d tie rule. */
function coarse(shape: number[]): Tensor {
  const t = randomTensor(shape, -1, 1, 'f32');
  for (let i = 0; i < t.size; i++) t.data[i] = Math.round(t.data[i] * 2) / 2;
  return t;
}

/** Flat index of the first (row-major) maximum of each pooling window: the rule max-pool2d documents. */
function firstMaxIndices(x: Tensor, k: number, s: number): Uint32Array {
  const [n, c, h, w] = x.shape;
  const oh = Math.floor((h - k) / s) + 1,
    ow = Math.floor((w - k) / s) + 1;
  const out = new Uint32Array(n * c * oh * ow);
  for (let p = 0; p < n * c; p++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++) {
        let best = -1;
        for (let ky = 0; ky < k; ky++)
          for (let kx = 0; kx < k; kx++) {
            const i = (p * h + oy * s + ky) * w + ox * s + kx;
            if (best < 0 || x.data[i] > x.data[best]) best = i;
          }
        out[(p * oh + oy) * ow + ox] = best;
      }
  return out;
}

describe('webgpu parity: forward kernels', () => {
  adapterAvailableTest(device);

  describe.skipIf(!gpu)('kernels', () => {
    test('conv2d matches reference conv2d + biasAdd (stride, padding, odd sizes)', async () => {
      for (const c of CONV_CASES) {
        const p = convParams(c);
        const x = randomTensor([p.batch, p.inChannels, p.height, p.width], -1, 1, 'f32');
        const w = randomTensor(
          [p.outChannels, p.inChannels, p.kernelSize, p.kernelSize],
          -1,
          1,
          'f32',
        );
        const b = randomTensor([p.outChannels], -1, 1, 'f32');
        const out = await run('conv2d', p, { x: f32(x), weight: f32(w), bias: f32(b) });
        const want = referenceBackend.biasAdd(referenceBackend.conv2d(x, w, p), b);
        expectClose(`conv2d [${c}]`, out.y, want.data);
      }
    });

    test('conv2d: grids wrapped into y and other workgroup sizes give the same output', async () => {
      const p = convParams([2, 2, 7, 9, 3, 3, 2, 1]);
      const x = f32(randomTensor([2, 2, 7, 9], -1, 1, 'f32'));
      const weight = f32(randomTensor([3, 2, 3, 3], -1, 1, 'f32'));
      const bias = new Float32Array(3);
      const base = await run('conv2d', p, { x, weight, bias });
      for (const [WG, cap] of [
        [1, 65535],
        [16, 3],
        [256, 1],
      ]) {
        const out = await run(
          'conv2d',
          p,
          { x, weight, bias },
          { constants: { WG }, maxWorkgroupsPerDimension: cap },
        );
        expectBitExact(`conv2d WG=${WG} cap=${cap}`, out.y, base.y);
      }
    });

    test('conv2d refuses a window that does not fit before dispatching', async () => {
      const p = convParams([1, 1, 2, 2, 1, 5, 1, 1]);
      await expect(
        run('conv2d', p, {
          x: new Float32Array(4),
          weight: new Float32Array(25),
          bias: new Float32Array(1),
        }),
      ).rejects.toThrow(/does not fit/);
    });

    test('hashed-conv2d matches hashGather(w) as [oc, ic, k, k] + reference conv2d, several seeds', async () => {
      for (const c of [CONV_CASES[0], CONV_CASES[1], CONV_CASES[3]]) {
        const p = convParams(c);
        const cols = p.inChannels * p.kernelSize * p.kernelSize;
        const buckets = bucketsFor(1 / 4, p.outChannels, cols);
        const x = randomTensor([p.batch, p.inChannels, p.height, p.width], -1, 1, 'f32');
        const w = randomTensor([buckets], -1, 1, 'f32');
        const b = randomTensor([p.outChannels], -1, 1, 'f32');
        for (const seed of SEEDS) {
          const out = await run(
            'hashed-conv2d',
            { ...p, buckets, seed },
            { x: f32(x), weight: f32(w), bias: f32(b) },
          );
          // docs/design.md §3: i = o, j = (ci·k + ky)·k + kx, i.e. the row-major [oc, ic·k·k] table reshaped.
          const V = referenceBackend
            .hashGather(w, hashTable(p.outChannels, cols, seed, buckets))
            .reshape([p.outChannels, p.inChannels, p.kernelSize, p.kernelSize]);
          const want = referenceBackend.biasAdd(referenceBackend.conv2d(x, V, p), b);
          expectClose(`hashed-conv2d [${c}] seed=${seed}`, out.y, want.data);
        }
      }
    });

    test('max-pool2d: values and first-maximum argmax bit-exact, ties included (overlapping and strided windows)', async () => {
      // [batch, channels, height, width, kernelSize, stride]
      for (const [batch, channels, height, width, kernelSize, stride] of [
        [2, 3, 8, 8, 2, 2],
        [1, 2, 7, 9, 3, 2],
        [1, 1, 5, 5, 2, 1],
        [2, 1, 6, 7, 3, 3],
        [1, 1, 1, 1, 1, 1],
      ]) {
        const x = coarse([batch, channels, height, width]);
        const out = await run(
          'max-pool2d',
          { batch, channels, height, width, kernelSize, stride },
          { x: f32(x) },
        );
        const what = `max-pool2d [${[batch, channels, height, width]}] k=${kernelSize} s=${stride}`;
        expectBitExact(what, out.y, referenceBackend.maxPool2d(x, { kernelSize, stride }).data);
        expectBitExact(`${what} argmax`, out.argmax, firstMaxIndices(x, kernelSize, stride));
      }
    });

    test('softmax and log-softmax match the reference per element, large and saturating logits included', async () => {
      for (const [rows, cols, scale] of [
        [7, 10, 5],
        [3, 1000, 1],
        [2, 10, 200],
        [5, 1, 3],
      ]) {
        const x = randomTensor([rows, cols], -scale, scale, 'f32');
        const sm = await run('softmax', { rows, cols }, { x: f32(x) });
        expectCloseEach(
          `softmax ${rows}x${cols} ±${scale}`,
          sm.y,
          referenceBackend.softmax(x).data,
        );
        const lsm = await run('log-softmax', { rows, cols }, { x: f32(x) });
        expectCloseEach(
          `log-softmax ${rows}x${cols} ±${scale}`,
          lsm.y,
          referenceBackend.logSoftmax(x).data,
        );
      }
    });
  });
});

// Backward WGSL kernels (input gradients for attacks, weight gradients for training) against the reference CPU
// kernels on a real adapter; same skip rule as parity.test.ts. Routing (relu, max-pool2d) bit-exact, sums within the
// parity tolerance. Hashed weight gradients are checked against hashScatter of the dense weight gradient.
import { afterAll, describe, test } from 'bun:test';
import { referenceBackend } from '../../../src/backend/index.ts';
import { bucketEntries } from '../../../src/backend/webgpu/bucket-entries.ts';
import { bucketsFor, hashTable } from '../../../src/hash/hashed-nets.ts';
import { Tensor } from '../../../src/tensor/tensor.ts';
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

const device = await parityGpu('webgpu parity (backward)');
const gpu = device.gpu;
afterAll(() => gpu?.device.destroy());
const run = kernelRunner(gpu);
const ref = referenceBackend;

/** [batch, inChannels, height, width, outChannels, kernelSize, stride, padding]. */
const CONV_CASES = [
  [2, 3, 8, 8, 4, 3, 1, 1],
  [2, 2, 7, 9, 3, 3, 2, 1],
  [1, 3, 6, 6, 2, 2, 2, 0],
  [1, 2, 4, 5, 2, 3, 3, 2],
  [2, 1, 9, 9, 2, 4, 3, 0],
  [1, 1, 1, 1, 1, 1, 1, 0],
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
const outSize = (n: number, k: number, s: number, p: number) => Math.floor((n + 2 * p - k) / s) + 1;

describe('webgpu parity: backward kernels', () => {
  adapterAvailableTest(device);

  describe.skipIf(!gpu)('kernels', () => {
    test('relu-grad-input: dy·(x > 0) bit-exact (x = ±0 passes nothing, signs of dy kept)', async () => {
      const x = randomTensor([3, 700], -2, 2, 'f32');
      const dy = randomTensor([3, 700], -1, 1, 'f32');
      x.data[0] = 0;
      x.data[1] = -0;
      const out = await run('relu-grad-input', { size: x.size }, { x: f32(x), dy: f32(dy) });
      // The autodiff table's rule (op-table.ts): dy · compare('gt', x, 0).
      const want = ref.binary('mul', dy, ref.compare('gt', x, new Tensor([], Float32Array.of(0))));
      expectBitExact('relu-grad-input', out.dx, want.data);
    });

    test('max-pool2d-grad-input: routes dy through max-pool2d argmax exactly as reference maxPool2dGradInput', async () => {
      for (const [batch, channels, height, width, kernelSize, stride] of [
        [2, 3, 8, 8, 2, 2],
        [1, 2, 7, 9, 3, 2],
        [1, 1, 5, 5, 2, 1],
        [2, 1, 6, 7, 3, 3],
        [1, 1, 6, 6, 3, 1],
      ]) {
        const params = { batch, channels, height, width, kernelSize, stride };
        // Coarse values: many ties, so the first-maximum rule decides where gradients go; overlapping windows
        // (stride < kernelSize) send several outputs' gradients to one input, summed in the reference's order.
        const x = randomTensor([batch, channels, height, width], -1, 1, 'f32');
        for (let i = 0; i < x.size; i++) x.data[i] = Math.round(x.data[i] * 2) / 2;
        const fwd = await run('max-pool2d', params, { x: f32(x) });
        const dy = randomTensor(
          [
            batch,
            channels,
            outSize(height, kernelSize, stride, 0),
            outSize(width, kernelSize, stride, 0),
          ],
          -1,
          1,
          'f32',
        );
        const out = await run('max-pool2d-grad-input', params, { dy: f32(dy), argmax: fwd.argmax });
        expectBitExact(
          `max-pool2d-grad-input [${[batch, channels, height, width]}] k=${kernelSize} s=${stride}`,
          out.dx,
          ref.maxPool2dGradInput(x, dy, { kernelSize, stride }).data,
        );
      }
    });

    test('dense-grad-input (dy·W) and dense-grad-weight (dyᵀ·x, Σ_n dy) match reference matmul and sum', async () => {
      for (const [batch, inDim, outDim] of [
        [5, 300, 37],
        [1, 1, 1],
        [16, 64, 10],
        [33, 7, 3],
      ]) {
        const x = randomTensor([batch, inDim], -1, 1, 'f32');
        const w = randomTensor([outDim, inDim], -1, 1, 'f32');
        const dy = randomTensor([batch, outDim], -1, 1, 'f32');
        const p = { batch, inDim, outDim };
        const gi = await run('dense-grad-input', p, { dy: f32(dy), weight: f32(w) });
        expectClose(`dense-grad-input ${batch}x${inDim}→${outDim}`, gi.dx, ref.matmul(dy, w).data);
        const gw = await run('dense-grad-weight', p, { x: f32(x), dy: f32(dy) });
        expectClose(
          `dense-grad-weight ${batch}x${inDim}→${outDim}`,
          gw.dweight,
          ref.matmul(dy, x, true, false).data,
        );
        expectClose(
          `dense-grad-weight bias ${batch}x${inDim}→${outDim}`,
          gw.dbias,
          ref.sum(dy, [0]).data,
        );
      }
    });

    test('hashed-dense-grad-input and -grad-weight match dy·V and hashScatter(dyᵀ·x), several seeds', async () => {
      const [batch, inDim, outDim] = [6, 200, 30];
      for (const buckets of [
        bucketsFor(1 / 8, outDim, inDim),
        bucketsFor(1 / 64, outDim, inDim),
        1,
      ]) {
        const x = randomTensor([batch, inDim], -1, 1, 'f32');
        const w = randomTensor([buckets], -1, 1, 'f32');
        const dy = randomTensor([batch, outDim], -1, 1, 'f32');
        for (const seed of SEEDS) {
          const table = hashTable(outDim, inDim, seed, buckets);
          const p = { batch, inDim, outDim, buckets, seed };
          const gi = await run('hashed-dense-grad-input', p, { dy: f32(dy), weight: f32(w) });
          expectClose(
            `hashed-dense-grad-input K=${buckets} seed=${seed}`,
            gi.dx,
            ref.matmul(dy, ref.hashGather(w, table)).data,
          );
          const { offsets, entries } = bucketEntries(table.bucket, buckets);
          const gw = await run('hashed-dense-grad-weight', p, {
            x: f32(x),
            dy: f32(dy),
            offsets,
            entries,
          });
          expectClose(
            `hashed-dense-grad-weight K=${buckets} seed=${seed}`,
            gw.dweight,
            ref.hashScatter(ref.matmul(dy, x, true, false), table).data,
          );
          expectClose(
            `hashed-dense-grad-weight bias K=${buckets} seed=${seed}`,
            gw.dbias,
            ref.sum(dy, [0]).data,
          );
        }
      }
    });

    test('hashed-dense-grad-weight: more buckets than outputs and more outputs than buckets both write every bias', async () => {
      for (const [batch, inDim, outDim, buckets] of [
        [3, 4, 50, 7],
        [3, 40, 2, 60],
      ]) {
        const x = randomTensor([batch, inDim], -1, 1, 'f32');
        const dy = randomTensor([batch, outDim], -1, 1, 'f32');
        const table = hashTable(outDim, inDim, 9, buckets);
        const gw = await run(
          'hashed-dense-grad-weight',
          { batch, inDim, outDim, buckets, seed: 9 },
          { x: f32(x), dy: f32(dy), ...bucketEntries(table.bucket, buckets) },
        );
        expectClose(
          `dweight ${outDim}x${inDim} K=${buckets}`,
          gw.dweight,
          ref.hashScatter(ref.matmul(dy, x, true, false), table).data,
        );
        expectClose(`dbias ${outDim}x${inDim} K=${buckets}`, gw.dbias, ref.sum(dy, [0]).data);
      }
    });

    test('conv2d-grad-input and conv2d-grad-weight match reference conv2dGradInput / conv2dGradWeight / Σ dy', async () => {
      for (const c of CONV_CASES) {
        const p = convParams(c);
        const xShape = [p.batch, p.inChannels, p.height, p.width];
        const wShape = [p.outChannels, p.inChannels, p.kernelSize, p.kernelSize];
        const x = randomTensor(xShape, -1, 1, 'f32');
        const w = randomTensor(wShape, -1, 1, 'f32');
        const dy = randomTensor(
          [
            p.batch,
            p.outChannels,
            outSize(p.height, p.kernelSize, p.stride, p.padding),
            outSize(p.width, p.kernelSize, p.stride, p.padding),
          ],
          -1,
          1,
          'f32',
        );
        const gi = await run('conv2d-grad-input', p, { dy: f32(dy), weight: f32(w) });
        expectClose(`conv2d-grad-input [${c}]`, gi.dx, ref.conv2dGradInput(dy, w, xShape, p).data);
        const gw = await run('conv2d-grad-weight', p, { x: f32(x), dy: f32(dy) });
        expectClose(
          `conv2d-grad-weight [${c}]`,
          gw.dweight,
          ref.conv2dGradWeight(x, dy, wShape, p).data,
        );
        expectClose(`conv2d-grad-weight bias [${c}]`, gw.dbias, ref.sum(dy, [0, 2, 3]).data);
      }
    });

    test('conv2d-grad-input: wrapped grids and other workgroup sizes give the same gradient', async () => {
      const p = convParams(CONV_CASES[1]);
      const dy = f32(randomTensor([2, 3, 4, 5], -1, 1, 'f32'));
      const weight = f32(randomTensor([3, 2, 3, 3], -1, 1, 'f32'));
      const base = await run('conv2d-grad-input', p, { dy, weight });
      for (const [WG, cap] of [
        [1, 65535],
        [32, 3],
        [8, 6],
      ]) {
        const out = await run(
          'conv2d-grad-input',
          p,
          { dy, weight },
          { constants: { WG }, maxWorkgroupsPerDimension: cap },
        );
        expectBitExact(`conv2d-grad-input WG=${WG} cap=${cap}`, out.dx, base.dx);
      }
    });

    test('hashed-conv2d-grad-input and -grad-weight match the dense kernels on V and hashScatter, several seeds', async () => {
      for (const c of [CONV_CASES[0], CONV_CASES[1], CONV_CASES[3]]) {
        const p = convParams(c);
        const cols = p.inChannels * p.kernelSize * p.kernelSize;
        const buckets = bucketsFor(1 / 4, p.outChannels, cols);
        const xShape = [p.batch, p.inChannels, p.height, p.width];
        const wShape = [p.outChannels, p.inChannels, p.kernelSize, p.kernelSize];
        const x = randomTensor(xShape, -1, 1, 'f32');
        const w = randomTensor([buckets], -1, 1, 'f32');
        const dy = randomTensor(
          [
            p.batch,
            p.outChannels,
            outSize(p.height, p.kernelSize, p.stride, p.padding),
            outSize(p.width, p.kernelSize, p.stride, p.padding),
          ],
          -1,
          1,
          'f32',
        );
        for (const seed of SEEDS) {
          const table = hashTable(p.outChannels, cols, seed, buckets);
          const hp = { ...p, buckets, seed };
          const V = ref.hashGather(w, table).reshape(wShape);
          const gi = await run('hashed-conv2d-grad-input', hp, { dy: f32(dy), weight: f32(w) });
          expectClose(
            `hashed-conv2d-grad-input [${c}] seed=${seed}`,
            gi.dx,
            ref.conv2dGradInput(dy, V, xShape, p).data,
          );
          const gw = await run('hashed-conv2d-grad-weight', hp, {
            x: f32(x),
            dy: f32(dy),
            ...bucketEntries(table.bucket, buckets),
          });
          const dV = ref.conv2dGradWeight(x, dy, wShape, p).reshape([p.outChannels, cols]);
          expectClose(
            `hashed-conv2d-grad-weight [${c}] seed=${seed}`,
            gw.dweight,
            ref.hashScatter(dV, table).data,
          );
          expectClose(
            `hashed-conv2d-grad-weight bias [${c}] seed=${seed}`,
            gw.dbias,
            ref.sum(dy, [0, 2, 3]).data,
          );
        }
      }
    });
  });
});

// The PyTorch peer of `bun run bench` (bench/peers/torch-peer.py) runs the same weights as hashguard: from the ONNX
// file hashguard exports (hashed layers expanded), its logits equal hashguard's within 1e-4 on a tiny hand-built
// model with every layer kind the bench uses and on the committed LeNet-5; each timed workload answers per-iteration
// times; a bad request is answered with its error and the peer stays up. Without torch this fails under CI=true.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTorchPython, startTorchPeer, type TorchPeer } from '../../bench/peers/torch.ts';
import { syntheticDataset } from '../../src/data/index.ts';
import { loadModelDir } from '../../src/io/index.ts';
import { initParams, Sequential, type LayerSpec } from '../../src/nn/index.ts';
import { exportOnnx } from '../../src/onnx/index.ts';
import { Tensor } from '../../src/tensor/index.ts';
import { conv, dense } from '../helpers/layer-specs.ts';
import { serviceMissing } from '../helpers/services.ts';

const found = findTorchPython();
const TOL = 1e-4;

/** conv, hashed conv, relu, max pool, flatten, hashed dense and dense: the layer kinds of the bench's models. */
const TINY: LayerSpec[] = [
  conv('c1', 1, 4, 3, 1, 1),
  { type: 'relu' },
  { type: 'maxpool2d', kernelSize: 2, stride: 2 },
  conv('c2', 4, 6, 3, 1, 0, { buckets: 27, seed: 7 }),
  { type: 'relu' },
  { type: 'flatten' },
  dense('d1', 6 * 2 * 2, 12, { buckets: 40, seed: 9 }),
  { type: 'relu' },
  dense('d2', 12, 3),
];

if ('reason' in found) {
  serviceMissing('PyTorch (the bench peer)', 'bun run bench:setup', found.reason);
} else {
  describe('torch peer', () => {
    let peer: TorchPeer;
    const dir = mkdtempSync(join(tmpdir(), 'hashguard-torch-peer-'));
    beforeAll(async () => {
      peer = await startTorchPeer(found.python);
    }, 120_000);
    afterAll(async () => {
      await peer?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    /** Loads `net` into the peer through its ONNX file and returns max |torch − hashguard| over n inputs. */
    async function logitGap(name: string, net: Sequential, n: number): Promise<number> {
      const file = join(dir, `${name}.onnx`);
      writeFileSync(file, exportOnnx(net.layers, net.params, net.inputShape, net.numClasses));
      await peer.request({ op: 'load', name, onnx: file });
      const shape = net.inputShape as [number, number, number];
      const x = syntheticDataset({ count: n, shape, classes: 3, seed: 5 }).images;
      const ours = net.forward(new Tensor([n, ...shape], x)).data as Float32Array;
      const r = await peer.request<{ logits: number[] }>({
        op: 'forward',
        model: name,
        x: Array.from(x),
        shape: [n, ...shape],
      });
      expect(r.logits.length).toBe(ours.length);
      return Math.max(...Array.from(ours, (v, i) => Math.abs(v - r.logits[i])));
    }

    test('reports its versions and BLAS', () => {
      expect(peer.info.torch).toMatch(/^\d+\.\d+/);
      expect(peer.info.python).toMatch(/^3\./);
      expect(typeof peer.info.blas).toBe('string');
    });

    test(`same logits as hashguard within ${TOL}: tiny model with hashed conv and dense layers`, async () => {
      const net = new Sequential([1, 8, 8], TINY, initParams(TINY, 3));
      expect(await logitGap('tiny', net, 6)).toBeLessThan(TOL);
    }, 60_000);

    test(`same logits as hashguard within ${TOL}: the committed mnist-lenet5`, async () => {
      const { manifest, tensors } = await loadModelDir(
        join(import.meta.dir, '../../models/mnist-lenet5'),
      );
      const net = new Sequential(manifest.input.shape, manifest.layers, tensors);
      expect(await logitGap('lenet5', net, 8)).toBeLessThan(TOL);
    }, 60_000);

    test('every bench workload answers one wall time per timed iteration', async () => {
      const d = syntheticDataset({ count: 32, shape: [1, 8, 8], classes: 3, seed: 1 });
      writeFileSync(join(dir, 'x.f32'), d.images);
      writeFileSync(join(dir, 'y.f32'), Float32Array.from(d.labels));
      await peer.request({
        op: 'data',
        name: 'tiny',
        x: join(dir, 'x.f32'),
        y: join(dir, 'y.f32'),
        shape: [32, 1, 8, 8],
      });
      for (const workload of ['infer', 'train', 'pgd', 'adv-train']) {
        const r = await peer.request<{ seconds: number[]; threads: number }>({
          op: 'bench',
          workload,
          model: 'tiny',
          data: 'tiny',
          threads: 1,
          batch: 8,
          iters: 2,
          warmup: 1,
          steps: 3,
          eps: 0.3,
          alpha: 0.01,
          lr: 1e-3,
        });
        expect(r.seconds.length, workload).toBe(2);
        expect(r.seconds.every((s) => s > 0)).toBe(true);
        expect(r.threads).toBe(1);
      }
    }, 120_000);

    test('a bad request is answered with its error; the peer stays up', async () => {
      await expect(
        peer.request({
          op: 'bench',
          workload: 'infer',
          model: 'nope',
          data: 'tiny',
          threads: 1,
          batch: 1,
          iters: 1,
        }),
      ).rejects.toThrow(/torch peer, bench: .*nope/);
      await expect(
        peer.request({ op: 'load', name: 'x', onnx: join(dir, 'missing.onnx') }),
      ).rejects.toThrow(/torch peer, load/);
      expect((await peer.request<{ torch: string }>({ op: 'hello' })).torch).toBe(peer.info.torch);
    }, 60_000);
  });
}

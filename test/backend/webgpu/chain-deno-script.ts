// Run by test/backend/webgpu/chain-deno.test.ts under Deno: a hashed LeNet-5 forward and backward on the GPU chain
// through Deno's own navigator.gpu (wgpu) against the CPU backend. Prints one JSON line.
import * as ops from '../../../src/autodiff/ops.ts';
import { defaultBackend, selectBackend, setBackend } from '../../../src/backend/index.ts';
import { architecture } from '../../../src/nn/architectures.ts';
import { hashLayers } from '../../../src/nn/hashed-layers.ts';
import { initParams } from '../../../src/nn/init.ts';
import { Sequential } from '../../../src/nn/sequential.ts';
import { Tensor } from '../../../src/tensor/tensor.ts';

try {
  const s = await selectBackend('webgpu');
  const shape = [1, 28, 28];
  const layers = hashLayers(
    architecture('lenet5', shape, 10),
    [1 / 4, 1 / 8, 1 / 8, 1 / 8, 1 / 8],
    [1, 2, 3, 4, 5],
  );
  const m = new Sequential(shape, layers, initParams(layers, 5));
  const x = new Tensor(
    [7, 1, 28, 28],
    Float32Array.from({ length: 7 * 784 }, (_, i) => ((i * 2654435761) % 1000) / 1000),
  );
  const y = new Tensor([7], Float32Array.from([0, 1, 2, 3, 4, 5, 6]));
  const loss = (z: Tensor) => ops.sum(ops.crossEntropy(z, y));
  const want = m.lossGradients(x, loss, { input: true, params: true });
  setBackend(s.backend);
  const got = await m.lossGradientsAsync(x, loss, { input: true, params: true });
  setBackend(defaultBackend);
  let worst = 0;
  const cmp = (a: Tensor, b: Tensor) => {
    let d = 0,
      scale = 1;
    for (let i = 0; i < b.size; i++) {
      d = Math.max(d, Math.abs(a.data[i] - b.data[i]));
      scale = Math.max(scale, Math.abs(b.data[i]));
    }
    worst = Math.max(worst, d / scale);
  };
  cmp(got.logits, want.logits);
  cmp(got.dx!, want.dx!);
  for (const [n, g] of want.grads!) cmp(got.grads!.get(n)!, g);
  console.log(JSON.stringify({ ok: true, backend: s.description, worst }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: (e as Error).message }));
}

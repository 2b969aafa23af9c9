// Run by test/runtimes/cross-runtime.test.ts under Deno and (bundled) Node: the WebAssembly SIMD backend
// against the reference kernels on a LeNet-5 forward and backward pass, and optionally the worker pool.
// Prints one JSON line. Web-standard APIs only.
import { gradients, noGrad } from '../../src/autodiff/grad.ts';
import * as ops from '../../src/autodiff/ops.ts';
import { referenceBackend, withBackend } from '../../src/backend/index.ts';
import { createWasmBackend } from '../../src/backend/wasm/index.ts';
import { architecture } from '../../src/nn/architectures.ts';
import { initParams } from '../../src/nn/init.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { Tensor } from '../../src/tensor/tensor.ts';

const usePool = !(globalThis as { process?: { argv?: string[] } }).process?.argv?.includes(
  '--no-pool',
);
const wasm = createWasmBackend();
if (!wasm) {
  console.log(JSON.stringify({ ok: false, error: 'no WebAssembly SIMD' }));
} else {
  const shape = [1, 28, 28];
  const layers = architecture('lenet5', shape, 10);
  const model = new Sequential(shape, layers, initParams(layers, 5));
  const x = new Tensor(
    [7, 1, 28, 28],
    Float32Array.from({ length: 7 * 784 }, (_, i) => ((i * 2654435761) % 1000) / 1000),
  );
  const y = new Tensor([7], Float32Array.from([0, 1, 2, 3, 4, 5, 6]));
  const pass = () => {
    const logits = noGrad(() => model.forward(x));
    const { grads } = gradients(
      () => ops.mean(ops.crossEntropy(model.forward(x), y)),
      [x, ...model.parameterNames().map((n) => model.params.get(n)!)],
    );
    return [logits, ...grads];
  };
  const want = withBackend(referenceBackend, pass);
  const got = withBackend(wasm, pass);
  let worst = 0;
  got.forEach((t, k) => {
    let diff = 0,
      scale = 1e-12;
    for (let i = 0; i < t.size; i++) {
      diff = Math.max(diff, Math.abs(t.data[i] - want[k].data[i]));
      scale = Math.max(scale, Math.abs(want[k].data[i]));
    }
    worst = Math.max(worst, diff / scale);
  });
  let poolMaxDiff: number | null = null;
  if (usePool) {
    const { WorkerPool } = await import('../../src/parallel/pool.ts');
    const pool = new WorkerPool({ size: 2 });
    try {
      const logits = await pool.forward(model, x);
      poolMaxDiff = Math.max(...Array.from(logits.data, (v, i) => Math.abs(v - got[0].data[i])));
    } finally {
      pool.close();
    }
  }
  console.log(
    JSON.stringify({ ok: true, backend: wasm.name, worstRelativeDiff: worst, poolMaxDiff }),
  );
}

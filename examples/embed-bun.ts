// Embedding hashguard in a Bun app: load a model, harden it (no retraining), attack it, and serve it with
// createApp. `bun examples/embed-bun.ts` answers one request in-process and exits; pass --listen to serve on
// 127.0.0.1:8081. test/examples.test.ts runs it.
import { createApp, harden, loadModel, PGD, successRate, Tensor, WhiteBox, loadDataset } from '../src/node.ts';

const model = await loadModel('models/mnist-lenet5-h8');
// Harden: scale the last layer ×100 (gradient inhibition, no retraining); predictions are unchanged.
const hardened = await harden(model, ['scale:100']);
const { test } = await loadDataset('mnist');
const x = new Tensor([64, 1, 28, 28], test.images.slice(0, 64 * 784));
const y = new Tensor([64], Float32Array.from(test.labels.slice(0, 64)));
// Attack it: cross-entropy PGD is masked by the scaling; the CW margin loss is not.
for (const loss of ['ce', 'cw'] as const) {
  const r = await new PGD({ eps: 0.3, steps: 40, loss }).run(new WhiteBox(hardened.defended), x, y);
  console.log(`PGD-${loss} success ${(100 * successRate(r)).toFixed(1)}%`);
}
// Serve the committed defended model and the one just hardened (the app never listens by itself).
const app = createApp({ models: { digits: { dir: 'models/mnist-lenet5-h8-gi' }, scaled: { model: hardened } }, workers: 1 });
await app.ready; // models load and warm up in the background
const res = await app.request('/v2/models/digits/infer', {
  method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ inputs: [{ name: 'input', shape: [1, 1, 28, 28], datatype: 'FP32', data: Array.from(x.data.subarray(0, 784)) }] }),
});
console.log('infer', res.status, await res.text());
if (process.argv.includes('--listen')) {
  Bun.serve({ hostname: '127.0.0.1', port: 8081, fetch: app.fetch });
  console.log('listening on http://127.0.0.1:8081');
} else await app.close();

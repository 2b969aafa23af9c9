// The README's example, kept runnable: load → predict → an input gradient → one FGSM step. Run from the repo
// root: `bun examples/readme.ts`. test/examples.test.ts runs it.
import { loadModel, predict, loadDataset, ops, gradients, Tensor } from '../src/node.ts';

const model = await loadModel('models/mnist-lenet5'); // verifies sha256, dtypes, shapes
const { test } = await loadDataset('mnist'); // checksummed IDX files
const x = new Tensor([8, 1, 28, 28], test.images.slice(0, 8 * 784));
const y = new Tensor([8], Float32Array.from(test.labels.slice(0, 8)));
console.log('clean', Array.from(predict(model, x.data as Float32Array)));
const { grads: [g] } = gradients(() => ops.mean(ops.crossEntropy(model.network.forward(x), y)), [x]);
const xAdv = ops.clamp(ops.add(x, ops.mul(ops.sign(g), 0.3)), 0, 1); // one FGSM step, by hand
console.log('fgsm ', Array.from(predict(model, xAdv.data as Float32Array)));
console.log('label', Array.from(test.labels.slice(0, 8)));

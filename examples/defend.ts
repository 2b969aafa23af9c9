// The README's "defend your model" example, kept runnable: gradient inhibition (GI) on a hashed model and on an
// adversarially trained one, each checked with an adaptive attack. Run from the repo root:
// `bun examples/defend.ts`. test/readme-example.test.ts runs it and holds the README's copy equal to it.
import { harden, loadDataset, loadModel, PGD, successRate, Tensor, WhiteBox } from '../src/node.ts';

const { test } = await loadDataset('mnist');
const x = new Tensor([64, 1, 28, 28], test.images.slice(0, 64 * 784));
const y = new Tensor([64], Float32Array.from(test.labels.slice(0, 64)));
const attack = new PGD({ eps: 0.3, steps: 40, loss: 'cw' }); // adaptive: margin loss on logits
for (const dir of ['models/mnist-cnn-h8', 'models/mnist-cnn-h8-at']) {
  const hardened = await harden(await loadModel(dir), ['scale:100']); // GI, no retraining
  const r = await attack.run(new WhiteBox(hardened.defended), x, y);
  console.log(`${dir} + GI scale: PGD-CW breaks ${(100 * successRate(r)).toFixed(1)}%`);
}

// The committed models, their accuracy targets (issues 2, 3 and 9), and the fixed 1000-image test subset they
// are checked on.
import { deriveStream, permutation } from '../../src/hash/rng.ts';
import { cifar10JpegTarball, loadCifar10Jpeg, loadDataset } from '../../src/data/node.ts';
import { type Dataset } from '../../src/data/index.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const REPO_ROOT = join(import.meta.dir, '../..');

export interface CommittedModel {
  name: string;
  dataset: 'mnist' | 'fashion-mnist' | 'cifar10-jpeg';
  /** Full-test-split accuracy (model.json metrics) must reach this. */
  minTestAccuracy?: number;
  /** ... or be within `pp` percentage points of another committed model's. */
  within?: { model: string; pp: number };
  /**
   * An issue target this model does not meet yet. Its target check runs as `test.failing`: the suite stays
   * green while the gap is open and turns red the day the model meets it, so the marker gets removed.
   */
  knownGap?: string;
}

export const COMMITTED_MODELS: CommittedModel[] = [
  { name: 'mnist-mlp', dataset: 'mnist', minTestAccuracy: 0.978 },
  { name: 'mnist-lenet5', dataset: 'mnist', minTestAccuracy: 0.989 },
  { name: 'fashion-lenet5', dataset: 'fashion-mnist', minTestAccuracy: 0.89 },
  { name: 'mnist-mlp-h8', dataset: 'mnist', within: { model: 'mnist-mlp', pp: 1.0 } },
  { name: 'mnist-mlp-h32', dataset: 'mnist' },
  { name: 'mnist-mlp-h64', dataset: 'mnist', minTestAccuracy: 0.96 },
  { name: 'mnist-lenet5-h8', dataset: 'mnist', within: { model: 'mnist-lenet5', pp: 1.0 } },
  {
    name: 'fashion-lenet5-h8',
    dataset: 'fashion-mnist',
    within: { model: 'fashion-lenet5', pp: 1.0 },
  },
  // Projection alone (no fine-tuning) is reported, not held to a target: see README "Models".
  { name: 'mnist-lenet5-h8-converted', dataset: 'mnist' },
  {
    name: 'mnist-lenet5-h8-converted-ft10',
    dataset: 'mnist',
    within: { model: 'mnist-lenet5', pp: 1.0 },
  },
  // Issue 9: CIFAR-10 (JPEG).
  { name: 'cifar10-cnn', dataset: 'cifar10-jpeg', minTestAccuracy: 0.75 },
  { name: 'cifar10-cnn-h8', dataset: 'cifar10-jpeg', within: { model: 'cifar10-cnn', pp: 2.0 } },
  // Robust training (docs/design.md §1.4): the 4-layer strided CNN, clean and hashed, and PGD-AT at ε 0.3 (dense and 1/8
  // hashed), whose clean targets are 98.5% and 97.0% (their robust targets are held by test/robustness/robust-accuracy.robustness.test.ts).
  { name: 'mnist-cnn', dataset: 'mnist' },
  { name: 'mnist-cnn-h8', dataset: 'mnist' },
  { name: 'mnist-cnn-at', dataset: 'mnist', minTestAccuracy: 0.985 },
  { name: 'mnist-cnn-h8-at', dataset: 'mnist', minTestAccuracy: 0.97 },
  // Fashion-MNIST, PGD-AT at ε 0.1 on the same CNN: clean target 84%.
  { name: 'fashion-cnn-at', dataset: 'fashion-mnist', minTestAccuracy: 0.84 },
  // CIFAR-10, FGSM-RS at 8/255 on the cifar10-cnn architecture: clean target 68%.
  {
    name: 'cifar10-cnn-at',
    dataset: 'cifar10-jpeg',
    minTestAccuracy: 0.68,
    knownGap: 'cifar10-cnn-at reaches 62.28% clean after 15 epochs of FGSM-RS at 8/255, target 68%',
  },
  // Its hashed twin (dense layers 1/15 and 1/2, as cifar10-cnn-h8), fine-tuned 4 epochs with FGSM-RS: clean target 64%.
  {
    name: 'cifar10-cnn-h8-at',
    dataset: 'cifar10-jpeg',
    minTestAccuracy: 0.64,
    knownGap:
      'cifar10-cnn-h8-at reaches 56.13% clean after a 4-epoch FGSM-RS fine-tune of its projection, target 64%',
  },
  // Certified training (IBP at ε 0.4, docs/verify.md) on Gowal et al.'s small CNN (ibp-small): clean target 97% (its
  // certified targets are held by test/verify/certified-models.test.ts).
  {
    name: 'mnist-cnn-ibp',
    dataset: 'mnist',
    minTestAccuracy: 0.97,
    knownGap:
      'mnist-cnn-ibp reaches 96.15% clean after 40 epochs of IBP training at ε 0.4, target 97%',
  },
  // The hashed certified model: small-cnn at widths 32, 64, 200 (a larger virtual network) stored at 19,290 weights,
  // 1/20.6 of mnist-cnn-ibp's 396,806, IBP-trained from scratch for 20 epochs: clean target 94%.
  {
    name: 'mnist-cnn-h8-ibp',
    dataset: 'mnist',
    minTestAccuracy: 0.94,
    knownGap:
      'mnist-cnn-h8-ibp reaches 87.51% clean after 20 epochs of IBP training at ε 0.4, target 94%',
  },
];

/** The test split only (CIFAR-10's 50,000 training JPEGs are not decoded for a test-set check). */
export async function testSplit(dataset: CommittedModel['dataset']): Promise<Dataset> {
  return dataset === 'cifar10-jpeg'
    ? loadCifar10Jpeg({ split: 'test' })
    : (await loadDataset(dataset)).test;
}

/** Why a dataset's golden checks must be skipped on this machine, or null when its data is present. */
export function missingData(dataset: CommittedModel['dataset']): string | null {
  if (
    dataset === 'fashion-mnist' &&
    !existsSync(process.env.HASHGUARD_FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist')
  ) {
    return 'install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist)';
  }
  if (dataset === 'cifar10-jpeg' && !existsSync(cifar10JpegTarball())) {
    return `${cifar10JpegTarball()} is absent: place cifar10-jpeg.tar.gz in ../shared/datasets/ or set HASHGUARD_CIFAR10_TGZ`;
  }
  return null;
}

export const GOLDEN_FILE = join(REPO_ROOT, 'test/golden/committed-models.json');

/** The first 1000 indices of a seeded permutation of the 10,000-image test split (seed 1). */
export function goldenSubset(testCount: number): Uint32Array {
  return permutation(deriveStream(1, 0x676f6c64), testCount).slice(0, 1000);
}

/** How many leading subset images have their logits pinned. */
export const GOLDEN_LOGIT_ROWS = 4;

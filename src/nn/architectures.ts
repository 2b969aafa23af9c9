// The named architectures the CLI trains: the MLP and LeNet-5 (MNIST family), a small VGG-style CNN
// (CIFAR-10) and the 4-layer strided CNN of the adversarial-training literature, as layer-spec lists.
import type { LayerSpec } from './layer-spec.ts';

export type ArchName = 'mlp' | 'lenet5' | 'cnn' | 'small-cnn' | 'ibp-small';

/** Every architecture name, for flag parsing. */
export const ARCH_NAMES: readonly ArchName[] = ['mlp', 'lenet5', 'cnn', 'small-cnn', 'ibp-small'];

function dense(name: string, inDim: number, outDim: number): LayerSpec {
  return { type: 'dense', inDim, outDim, weight: `${name}.weight`, bias: `${name}.bias` };
}

function conv(
  name: string,
  inChannels: number,
  outChannels: number,
  kernelSize: number,
  padding: number,
  stride = 1,
): LayerSpec {
  return {
    type: 'conv2d',
    inChannels,
    outChannels,
    kernelSize,
    stride,
    padding,
    weight: `${name}.weight`,
    bias: `${name}.bias`,
  };
}

/** MLP 784-300-100-10 with ReLU (LeCun et al. 1998's classic baseline; the HashedNets paper's too). */
export function mlp(
  input: readonly number[],
  classes: number,
  hidden: readonly number[] = [300, 100],
): LayerSpec[] {
  const layers: LayerSpec[] = [{ type: 'flatten' }];
  let inDim = input.reduce((a, b) => a * b, 1);
  hidden.forEach((h, i) => {
    layers.push(dense(`fc${i + 1}`, inDim, h), { type: 'relu' });
    inDim = h;
  });
  layers.push(dense(`fc${hidden.length + 1}`, inDim, classes));
  return layers;
}

/**
 * LeNet-5 with ReLU and max-pooling: conv 5×5×6 pad 2, pool 2, conv 5×5×16, pool 2, FC 120-84-classes.
 * For 28×28 input the flattened feature is 16·5·5 = 400. `widths` = [conv1, conv2, fc1, fc2] channels/units
 * (narrower ones give the equal-parameter dense baselines of the HashedNets comparison).
 */
export function lenet5(
  input: readonly number[],
  classes: number,
  widths: readonly number[] = [6, 16, 120, 84],
): LayerSpec[] {
  const [c, h, w] = input;
  const [c1, c2, f1, f2] = widths;
  const pool = { type: 'maxpool2d' as const, kernelSize: 2, stride: 2 };
  const side = (n: number) => Math.floor((Math.floor(n / 2) - 4) / 2);
  return [
    conv('conv1', c, c1, 5, 2),
    { type: 'relu' },
    pool,
    conv('conv2', c1, c2, 5, 0),
    { type: 'relu' },
    pool,
    { type: 'flatten' },
    dense('fc1', c2 * side(h) * side(w), f1),
    { type: 'relu' },
    dense('fc2', f1, f2),
    { type: 'relu' },
    dense('fc3', f2, classes),
  ];
}

/**
 * A small VGG-style CNN for 32×32 colour images: two blocks of two 3×3 same-padded convs (32-32, 64-64), each
 * block followed by 2×2 max-pooling, then FC 256 and the classifier. `widths` = [b1, b1', b2, b2', fc].
 * Why this shape: stacked 3×3 convs give a 5×5 receptive field per block at fewer weights than one 5×5, the
 * ~600k weights are enough for 75–80% on CIFAR-10 without batch norm (which the op set lacks), and ~50 MFLOP
 * per image forward keeps an epoch within minutes on two CPU cores.
 */
export function cnn(
  input: readonly number[],
  classes: number,
  widths: readonly number[] = [32, 32, 64, 64, 256],
): LayerSpec[] {
  const [c, h, w] = input;
  const [a, b, d, e, f] = widths;
  const pool = { type: 'maxpool2d' as const, kernelSize: 2, stride: 2 };
  const relu = { type: 'relu' as const };
  return [
    conv('conv1', c, a, 3, 1),
    relu,
    conv('conv2', a, b, 3, 1),
    relu,
    pool,
    conv('conv3', b, d, 3, 1),
    relu,
    conv('conv4', d, e, 3, 1),
    relu,
    pool,
    { type: 'flatten' },
    dense('fc1', e * Math.floor(h / 4) * Math.floor(w / 4), f),
    relu,
    dense('fc2', f, classes),
  ];
}

/**
 * Two 4×4 convolutions (the first stride 2, pad 1; the second as given), FC, classifier; no pooling, so every
 * layer is a linear map plus ReLU (what certification bounds need). `widths` = [conv1, conv2, fc].
 */
function twoConvNet(
  input: readonly number[],
  classes: number,
  [a, b, f]: readonly number[],
  conv2: { stride: number; padding: number },
): LayerSpec[] {
  const [c, h, w] = input;
  const out = (n: number, stride: number, padding: number) =>
    Math.floor((n + 2 * padding - 4) / stride) + 1;
  const side = (n: number) => out(out(n, 2, 1), conv2.stride, conv2.padding);
  const relu = { type: 'relu' as const };
  return [
    conv('conv1', c, a, 4, 1, 2),
    relu,
    conv('conv2', a, b, 4, conv2.padding, conv2.stride),
    relu,
    { type: 'flatten' },
    dense('fc1', b * side(h) * side(w), f),
    relu,
    dense('fc2', f, classes),
  ];
}

/**
 * The 4-layer CNN of Wong & Kolter's and Wong et al.'s MNIST experiments: conv 16 (4×4, stride 2, pad 1), conv 32
 * (4×4, stride 2, pad 1), FC 100, classifier. For 28×28 input the feature is 32·7·7 = 1568.
 */
export function smallCnn(
  input: readonly number[],
  classes: number,
  widths: readonly number[] = [16, 32, 100],
): LayerSpec[] {
  return twoConvNet(input, classes, widths, { stride: 2, padding: 1 });
}

/**
 * The small CNN of Gowal et al. (2018)'s interval-bound-propagation experiments: conv 16 (4×4, stride 2, pad 1),
 * conv 32 (4×4, stride 1, no padding), FC 100, classifier. Like small-cnn but the second convolution keeps its
 * resolution, so the FC layer sees 32·11·11 = 3872 features for 28×28 input (2.5× small-cnn's): the capacity
 * certified training needs.
 */
export function ibpSmall(
  input: readonly number[],
  classes: number,
  widths: readonly number[] = [16, 32, 100],
): LayerSpec[] {
  return twoConvNet(input, classes, widths, { stride: 1, padding: 0 });
}

/** The named architecture; `widths` overrides its hidden widths (MLP: any number; LeNet-5: four; CNN: five). */
export function architecture(
  name: ArchName,
  input: readonly number[],
  classes: number,
  widths?: readonly number[],
): LayerSpec[] {
  if (name === 'mlp') return mlp(input, classes, widths);
  if (name === 'lenet5') {
    if (widths && widths.length !== 4)
      throw new Error(
        `lenet5 widths: expected 4 numbers (conv1, conv2, fc1, fc2), got ${widths.length}`,
      );
    return lenet5(input, classes, widths);
  }
  if (name === 'cnn') {
    if (widths && widths.length !== 5)
      throw new Error(`cnn widths: expected 5 numbers (conv1..conv4, fc1), got ${widths.length}`);
    return cnn(input, classes, widths);
  }
  if (name === 'small-cnn') {
    if (widths && widths.length !== 3)
      throw new Error(
        `small-cnn widths: expected 3 numbers (conv1, conv2, fc1), got ${widths.length}`,
      );
    return smallCnn(input, classes, widths);
  }
  if (name === 'ibp-small') {
    if (widths && widths.length !== 3)
      throw new Error(
        `ibp-small widths: expected 3 numbers (conv1, conv2, fc1), got ${widths.length}`,
      );
    return ibpSmall(input, classes, widths);
  }
  throw new Error(
    `unknown architecture '${name}' (expected mlp, lenet5, cnn, small-cnn or ibp-small)`,
  );
}

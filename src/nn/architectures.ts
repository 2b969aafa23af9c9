// The named architectures the CLI trains: the MLP and LeNet-5 of the issue, as layer-spec lists.
import type { LayerSpec } from './layer-spec.ts';

export type ArchName = 'mlp' | 'lenet5';

function dense(name: string, inDim: number, outDim: number): LayerSpec {
  return { type: 'dense', inDim, outDim, weight: `${name}.weight`, bias: `${name}.bias` };
}

function conv(name: string, inChannels: number, outChannels: number, kernelSize: number, padding: number): LayerSpec {
  return { type: 'conv2d', inChannels, outChannels, kernelSize, stride: 1, padding, weight: `${name}.weight`, bias: `${name}.bias` };
}

/** MLP 784-300-100-10 with ReLU (LeCun et al. 1998's classic baseline; the HashedNets paper's too). */
export function mlp(input: readonly number[], classes: number, hidden: readonly number[] = [300, 100]): LayerSpec[] {
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
export function lenet5(input: readonly number[], classes: number, widths: readonly number[] = [6, 16, 120, 84]): LayerSpec[] {
  const [c, h, w] = input;
  const [c1, c2, f1, f2] = widths;
  const pool = { type: 'maxpool2d' as const, kernelSize: 2, stride: 2 };
  const side = (n: number) => Math.floor((Math.floor(n / 2) - 4) / 2);
  return [
    conv('conv1', c, c1, 5, 2), { type: 'relu' }, pool,
    conv('conv2', c1, c2, 5, 0), { type: 'relu' }, pool,
    { type: 'flatten' },
    dense('fc1', c2 * side(h) * side(w), f1), { type: 'relu' },
    dense('fc2', f1, f2), { type: 'relu' },
    dense('fc3', f2, classes),
  ];
}

/** The named architecture; `widths` overrides its hidden widths (MLP: any number; LeNet-5: four). */
export function architecture(name: ArchName, input: readonly number[], classes: number, widths?: readonly number[]): LayerSpec[] {
  if (name === 'mlp') return mlp(input, classes, widths);
  if (name === 'lenet5') {
    if (widths && widths.length !== 4) throw new Error(`lenet5 widths: expected 4 numbers (conv1, conv2, fc1, fc2), got ${widths.length}`);
    return lenet5(input, classes, widths);
  }
  throw new Error(`unknown architecture '${name}' (expected mlp or lenet5)`);
}

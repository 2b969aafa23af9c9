// The named architectures: layer lists and shapes (LeNet-5's 400-feature flatten, the CIFAR CNN's 4096),
// parameter counts, width overrides, and errors that name the bad widths.
import { describe, expect, test } from 'bun:test';
import { architecture, cnn } from '../../src/nn/architectures.ts';
import { initParams } from '../../src/nn/init.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { hashLayers, parseCompressions, weightedLayerCount } from '../../src/nn/hashed-layers.ts';

describe('cnn (CIFAR-10)', () => {
  test('conv 3×3 32-32, pool, 64-64, pool, FC 256, 10: shapes and parameter count', () => {
    const layers = cnn([3, 32, 32], 10);
    expect(layers.map((l) => l.type)).toEqual([
      'conv2d',
      'relu',
      'conv2d',
      'relu',
      'maxpool2d',
      'conv2d',
      'relu',
      'conv2d',
      'relu',
      'maxpool2d',
      'flatten',
      'dense',
      'relu',
      'dense',
    ]);
    const net = new Sequential([3, 32, 32], layers, initParams(layers, 1));
    // 3·32·9+32 + 32·32·9+32 + 32·64·9+64 + 64·64·9+64 + 4096·256+256 + 256·10+10
    expect(net.parameterCount()).toBe(896 + 9248 + 18496 + 36928 + 1048832 + 2570);
    const x = new Tensor(
      [2, 3, 32, 32],
      Float32Array.from({ length: 2 * 3072 }, (_, i) => (i % 97) / 97),
    );
    const z = net.forward(x);
    expect(z.shape).toEqual([2, 10]);
    expect(z.data.every(Number.isFinite)).toBe(true);
  });

  test('widths override the channels; wrong counts are refused by name', () => {
    const layers = architecture('cnn', [3, 32, 32], 10, [8, 8, 16, 16, 32]);
    const net = new Sequential([3, 32, 32], layers, initParams(layers, 1));
    expect(net.forward(new Tensor([1, 3, 32, 32], new Float32Array(3072))).shape).toEqual([1, 10]);
    expect(() => architecture('cnn', [3, 32, 32], 10, [8, 8, 16])).toThrow(
      'cnn widths: expected 5 numbers',
    );
    expect(() => architecture('vgg' as never, [3, 32, 32], 10)).toThrow(
      "unknown architecture 'vgg' (expected mlp, lenet5, cnn, small-cnn or ibp-small)",
    );
  });

  test('the committed h8 budget stores at most 1/8 of the dense weights', () => {
    const layers = cnn([3, 32, 32], 10);
    const hashed = hashLayers(
      layers,
      parseCompressions('1/2,1/2,1/2,1/2,1/10,1/2', weightedLayerCount(layers)),
      [1, 2, 3, 4, 5, 6],
    );
    const dense = new Sequential([3, 32, 32], layers, initParams(layers, 1));
    const h = new Sequential([3, 32, 32], hashed, initParams(hashed, 1));
    const weights = (n: Sequential) =>
      [...n.params].filter(([k]) => k.endsWith('.weight')).reduce((s, [, t]) => s + t.size, 0);
    expect(weights(h)).toBeLessThanOrEqual(weights(dense) / 8);
    expect(h.forward(new Tensor([1, 3, 32, 32], new Float32Array(3072).fill(0.5))).shape).toEqual([
      1, 10,
    ]);
  });
});

describe('ibp-small (certified training)', () => {
  test('conv 16 4×4 stride 2 pad 1, conv 32 4×4 stride 1, FC 100, 10: 3872 features, parameter count', () => {
    const layers = architecture('ibp-small', [1, 28, 28], 10);
    expect(layers.map((l) => l.type)).toEqual([
      'conv2d',
      'relu',
      'conv2d',
      'relu',
      'flatten',
      'dense',
      'relu',
      'dense',
    ]);
    expect(layers[5]).toMatchObject({ type: 'dense', inDim: 32 * 11 * 11, outDim: 100 });
    const net = new Sequential([1, 28, 28], layers, initParams(layers, 1));
    // 1·16·16+16 + 16·32·16+32 + 3872·100+100 + 100·10+10
    expect(net.parameterCount()).toBe(272 + 8224 + 387300 + 1010);
    const x = new Tensor(
      [2, 1, 28, 28],
      Float32Array.from({ length: 2 * 784 }, (_, i) => (i % 89) / 89),
    );
    expect(net.forward(x).shape).toEqual([2, 10]);
    expect(() => architecture('ibp-small', [1, 28, 28], 10, [8, 8])).toThrow(
      'ibp-small widths: expected 3 numbers',
    );
  });
});

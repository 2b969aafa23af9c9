// The taps of a convolution as flat lists: for each output position, the input positions it reads and the
// filter offsets it reads them with, in (channel, row, column) order, zero padding left out (it adds nothing,
// exactly). The interval and back-substitution rules walk these instead of each redoing the window arithmetic.
import type { LayerSpec } from '../nn/index.ts';

export interface ConvTaps {
  /** Output position q = y·ow + x reads taps start[q] to start[q + 1] − 1. */
  start: Int32Array;
  /** The input element (i·ih + yy)·iw + xx of each tap. */
  input: Int32Array;
  /** The tap's offset (i·k + ky)·k + kx inside one output channel's filter of ic·k² weights. */
  weight: Int32Array;
}

type ConvSpec = Extract<LayerSpec, { kernelSize: number; inChannels: number }>;

// A layer's taps are the same on every call (the interval pass and each back-substitution through it): kept per
// layer spec, with the input shape they were built for.
const built = new WeakMap<ConvSpec, { shape: string; taps: ConvTaps }>();

export function convTaps(
  spec: ConvSpec,
  inShape: readonly number[],
  out: readonly number[],
): ConvTaps {
  const shape = `${inShape.join(',')}/${out.join(',')}`;
  const hit = built.get(spec);
  if (hit?.shape === shape) return hit.taps;
  const taps = buildTaps(spec, inShape, out);
  built.set(spec, { shape, taps });
  return taps;
}

function buildTaps(spec: ConvSpec, inShape: readonly number[], out: readonly number[]): ConvTaps {
  const [ic, ih, iw] = inShape,
    [, oh, ow] = out;
  const { kernelSize: k, stride: s, padding: p } = spec;
  const start = new Int32Array(oh * ow + 1);
  const input: number[] = [],
    weight: number[] = [];
  for (let y = 0; y < oh; y++)
    for (let x = 0; x < ow; x++) {
      for (let i = 0; i < ic; i++)
        for (let ky = 0; ky < k; ky++) {
          const yy = y * s - p + ky;
          if (yy < 0 || yy >= ih) continue;
          for (let kx = 0; kx < k; kx++) {
            const xx = x * s - p + kx;
            if (xx < 0 || xx >= iw) continue;
            input.push((i * ih + yy) * iw + xx);
            weight.push((i * k + ky) * k + kx);
          }
        }
      start[y * ow + x + 1] = input.length;
    }
  return { start, input: Int32Array.from(input), weight: Int32Array.from(weight) };
}

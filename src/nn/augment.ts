// Training-time augmentation: random crop with zero padding (a shift of up to `pad` pixels each way) and an
// optional horizontal flip, per image, drawn from the counter RNG so a (seed, epoch, step) replays exactly.
import { deriveStream, randomInt } from '../hash/index.ts';

export interface Augment {
  /** Largest shift in pixels (the crop's padding); 0 disables the crop. */
  pad: number;
  /** Mirror left-right with probability 1/2 (natural images; never digits). */
  flip: boolean;
}

/** Parses "crop:4", "flip", "crop:4,flip" or "none". Errors name the bad part. */
export function parseAugment(text: string): Augment {
  const aug: Augment = { pad: 0, flip: false };
  if (text === 'none') return aug;
  for (const part of text.split(',').map((s) => s.trim())) {
    const crop = /^crop:(\d+)$/.exec(part);
    if (crop && Number(crop[1]) <= 16) aug.pad = Number(crop[1]);
    else if (part === 'flip') aug.flip = true;
    else throw new Error(`augment '${part}': expected crop:N (N ≤ 16), flip, or none`);
  }
  return aug;
}

/** Stream for the augmentation of one training step (distinct from the shuffle streams). */
export function augmentStream(seed: number, epoch: number, step: number): number {
  return deriveStream(deriveStream(seed, 0x61756700 + epoch), step); // 'aug'
}

/**
 * Augments a batch of n CHW images in place-free fashion: returns a new array. Image i shifts by (dy, dx) in
 * [-pad, pad]² (pixels shifted in from outside are 0) and flips if its draw says so; draws 3i, 3i+1, 3i+2.
 */
export function augmentBatch(
  x: Float32Array,
  n: number,
  shape: readonly [number, number, number],
  aug: Augment,
  stream: number,
): Float32Array {
  if (aug.pad === 0 && !aug.flip) return x;
  const [c, h, w] = shape;
  const per = c * h * w;
  const out = new Float32Array(x.length);
  for (let i = 0; i < n; i++) {
    const dy = aug.pad ? randomInt(stream, 3 * i, 2 * aug.pad + 1) - aug.pad : 0;
    const dx = aug.pad ? randomInt(stream, 3 * i + 1, 2 * aug.pad + 1) - aug.pad : 0;
    const flip = aug.flip && randomInt(stream, 3 * i + 2, 2) === 1;
    for (let ch = 0; ch < c; ch++) {
      const plane = i * per + ch * h * w;
      for (let y = 0; y < h; y++) {
        const sy = y + dy;
        if (sy < 0 || sy >= h) continue;
        for (let xx = 0; xx < w; xx++) {
          const sx = (flip ? w - 1 - xx : xx) + dx;
          if (sx >= 0 && sx < w) out[plane + y * w + xx] = x[plane + sy * w + sx];
        }
      }
    }
  }
  return out;
}

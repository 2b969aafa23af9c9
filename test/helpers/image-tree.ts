// A small generated ImageFolder tree for the data and CLI tests: 3 classes × 12 solid 8×8 images, even ones grey
// PNGs and odd ones RGB JPEGs, each image's grey level saying which one it is.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeJpeg, encodePng, rgbaImage } from '../data/helpers.ts';

export const TREE_CLASSES = ['ant', 'bee', 'cat'];
export const PER_CLASS = 12;

/** Image id (class · 12 + index) → grey level: ids 0..35 map to 20..230, far enough apart to survive JPEG. */
export const level = (id: number) => 20 + 6 * id;
/** The id of a grey level read back from a decoded image (a value in [0, 1]). */
export const idOf = (value: number) => Math.round((value * 255 - 20) / 6);

/** A solid grey RGBA image. */
export const solid = (w: number, h: number, v: number) => rgbaImage(w, h, () => [v, v, v]);

/** Image i of class c as [relative path, bytes]: `<class>/img-NN.png` (grey) or `.jpg` (RGB). */
export function imageFile(c: number, i: number, size = 8): [string, Uint8Array] {
  const img = solid(size, size, level(c * PER_CLASS + i));
  const name = `${TREE_CLASSES[c]}/img-${String(i).padStart(2, '0')}`;
  return i % 2 === 0
    ? [`${name}.png`, encodePng(img, size, size, 0)]
    : [`${name}.jpg`, encodeJpeg(img, size, size)];
}

/** Writes files under root, making folders, in the order given; returns root. */
export function writeFiles(root: string, files: [string, Uint8Array][]): string {
  for (const [rel, bytes] of files) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), bytes);
  }
  return root;
}

/** The whole tree under root; `reverse` creates the files in the opposite order. */
export function writeImageTree(root: string, reverse = false): string {
  const files: [string, Uint8Array][] = [];
  for (let c = 0; c < TREE_CLASSES.length; c++)
    for (let i = 0; i < PER_CLASS; i++) files.push(imageFile(c, i));
  return writeFiles(root, reverse ? files.reverse() : files);
}
